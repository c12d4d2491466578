package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.agents.LegacyAgentsService;
import io.corral.onnx.OnnxEmbeddings;
import io.corral.retrieval.Embedder;
import io.corral.retrieval.VectorStoreService;
import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.storage.LocalFilesProvider;
import io.corral.agents.ResponsesService;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import io.corral.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.call;
import static org.assertj.core.api.Assertions.assertThat;

/** Llama Stack 0.2.x's agent routes driven by its official TypeScript client (llama-stack-client 0.2.23 from npm, run by node). */
class LlamaStackClientTest {

    static final String VERSION = "0.2.23";

    static Path client() throws Exception {
        return TestServers.npmPackage("llama-stack-client", VERSION, "llama-stack-client/index.js");
    }

    /** What a client script printed, and the embedding model it was given. */
    record Run(JsonNode seen, String model) {
    }

    /**
     * Runs {@code script} with the npm client at {@code client} against a server with the in-process MiniLM, files on disk,
     * vector stores, prompts and a SQLite state store under {@code dir}, the model's id its argument after the URL.
     */
    static Run retrieval(Path client, String script, Path dir) throws Exception {
        try (OnnxEmbeddings minilm = new OnnxEmbeddings("sentence-transformers");
             LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             VectorStoreService stores = new VectorStoreService(files, kv, Map.of("lucene", new LuceneVectorIo(dir.resolve("vectors"))),
                     Embedder.of(minilm::embed, minilm::models), Clock.systemUTC(), VectorStoreService.Config.defaults());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(minilm))
                     .files(files).vectorStores(stores).prompts(new io.corral.agents.PromptStore(kv)).start()) {
            String model = minilm.models().getFirst().id();
            return new Run(NodeScript.run(client, script, dir, server.url(), model), model);
        }
    }

    /**
     * Llama Stack 0.7's retrieval below the vector stores API, through its official client (llama-stack-client 0.7.3): chunks
     * the client embedded put into a store with {@code vector_io.insert}, then found by {@code vector_io.query} and by search.
     */
    @Test
    void theVersion07Client_putsEmbeddedChunksIn_findsThem_andKeepsPromptVersions(@TempDir Path dir) throws Exception {
        Path client = TestServers.npmPackage("llama-stack-client", "0.7.3", "llama-stack-client/dist/index.js");
        JsonNode seen = retrieval(client, "llama-stack-client-vector-io.cjs", dir).seen();
        assertThat(seen.path("ids").toString()).startsWith("[\"note-1\"");
        assertThat(seen.path("scores")).hasSize(2);
        assertThat(seen.path("scores").get(0).asDouble()).isGreaterThan(seen.path("scores").get(1).asDouble());
        assertThat(seen.path("dimension").asInt()).isEqualTo(384);
        assertThat(seen.path("same").asBoolean()).as("the embedding comes back as it went in").isTrue();
        assertThat(seen.path("source").asText()).isEqualTo("notes.txt");
        assertThat(seen.path("hybrid").asText()).isEqualTo("Bordeaux makes red wine.");
        assertThat(seen.path("search").toString()).isEqualTo("[\"Bordeaux makes red wine.\"]");
        assertThat(seen.path("topic").asText()).isEqualTo("wine");
        assertThat(seen.path("prompts").toString()).as("versions, the default moved back, deleted").isEqualTo(
                "{\"second\":2,\"first\":\"Answer about {{ city }}.\",\"versions\":[[1,true],[2,false]],\"listed\":[1],\"left\":0}");
        assertThat(seen.path("admin").toString()).as("/v1alpha/admin: health, version, providers; routes by api_filter")
                .isEqualTo("[\"OK\",\"0.1.0\",true,true,true]");
    }

    /** Llama Stack 0.2.x's retrieval through its official client: a vector database registered, chunks inserted and queried. */
    @Test
    void theVersion02Client_registersAVectorDb_insertsChunks_andQueriesThem(@TempDir Path dir) throws Exception {
        Run run = retrieval(client(), "llama-stack-client-vector-dbs.cjs", dir);
        JsonNode seen = run.seen();
        String model = run.model();
        assertThat(seen.path("registered").toString()).isEqualTo("[\"my-docs\",\"vector_db\",384]");
        assertThat(seen.path("content").asText()).isEqualTo("The Eiffel Tower is in Paris.");
        assertThat(seen.path("document").asText()).isEqualTo("paris");
        assertThat(seen.path("scores").asInt()).isEqualTo(1);
        assertThat(seen.path("listed").toString()).isEqualTo("[\"my-docs\"]");
        assertThat(seen.path("model").asText()).isEqualTo(model);
        assertThat(seen.path("after").asInt()).as("unregistered").isZero();
        assertThat(seen.path("rag").toString()).as("the RAG tool's insert and knowledge_search query").isEqualTo(
                "{\"first\":\"rome\",\"begins\":true,\"colosseum\":true,\"oslo\":\"oslo\"}");
    }

    @Test
    void theOfficialClient_runsAnAgentTurn_awaitsItsTool_andResumesIt(@TempDir Path dir) throws Exception {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(call("get_weather", "{\"city\":\"Paris\"}"), answer("It is ", "sunny."));
        try (SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             ResponsesService responses = new ResponsesService(id -> model, null, null, kv, Clock.systemUTC());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(model))
                     .responses(responses).legacyAgents(new LegacyAgentsService(responses, kv, Clock.systemUTC())).start()) {
            JsonNode seen = NodeScript.run(client(), "llama-stack-client-agent.cjs", dir, server.url());
            assertThat(seen.path("tool").asText()).isEqualTo("get_weather");
            assertThat(seen.path("city").asText()).isEqualTo("Paris");
            assertThat(seen.path("answer").asText()).isEqualTo("It is sunny.");
            assertThat(seen.path("types").toString()).isEqualTo(
                    "[\"turn_start\",\"step_start\",\"step_progress\",\"step_progress\",\"step_complete\",\"turn_complete\"]");
            assertThat(seen.path("sessions").asInt()).isEqualTo(1);
            assertThat(seen.path("steps").toString()).isEqualTo("[\"inference\",\"inference\"]");
        }
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.NotFoundException;
import com.openai.models.ComparisonFilter;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import com.openai.models.vectorstores.VectorStore;
import com.openai.models.vectorstores.VectorStoreCreateParams;
import com.openai.models.vectorstores.VectorStoreSearchParams;
import com.openai.models.vectorstores.VectorStoreSearchResponse;
import com.openai.models.vectorstores.filebatches.FileBatchCreateParams;
import com.openai.models.vectorstores.files.FileUpdateParams;
import com.openai.models.vectorstores.files.VectorStoreFile;
import io.corral.onnx.OnnxEmbeddings;
import io.corral.retrieval.Embedder;
import io.corral.retrieval.VectorStoreService;
import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.InferenceProvider;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The vector stores API through the official OpenAI SDK and as Llama Stack's clients send it, over the real
 * embedded stores (files on disk, SQLite, Lucene) and the real in-process MiniLM embeddings.
 */
class VectorStoresApiTest {

    static final String KEY_A = "key-a-secret", KEY_B = "key-b-secret";
    static OnnxEmbeddings minilm;

    @TempDir
    Path dir;
    LocalFilesProvider files;
    SqlKeyValueStore kv;
    VectorStoreService stores;
    CorralServer server;
    OpenAIClient openai;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void loadModel() {
        minilm = new OnnxEmbeddings("sentence-transformers");
    }

    @AfterAll
    static void closeModel() {
        minilm.close();
    }

    void start(List<String> keys) {
        files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
        kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
        stores = new VectorStoreService(files, kv, Map.of("lucene", new LuceneVectorIo(dir.resolve("vectors"))),
                Embedder.of(minilm::embed, minilm::models), Clock.systemUTC(), VectorStoreService.Config.defaults());
        InferenceProvider chat = ScriptedProvider.chat("p", "m");
        server = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(keys))
                .providers(List.of(chat)).files(files).vectorStores(stores).start();
        openai = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey(keys.isEmpty() ? "none" : keys.getFirst())
                .maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            stores.close();
            kv.close();
            files.close();
        }
    }

    String upload(String name, String text) {
        return openai.files().create(FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<java.io.InputStream>builder()
                        .value(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).filename(name).build())
                .purpose(FilePurpose.ASSISTANTS).build()).id();
    }

    void idle() throws Exception {
        stores.awaitIdle(Duration.ofSeconds(60));
    }

    HttpResponse<String> call(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    @Test
    void theOfficialSdk_createsAStore_ingestsFiles_andSearchesWithFilters() throws Exception {
        start(List.of());
        String wing = upload("wing.txt", "The lift of a swept wing falls at high angles of attack as the flow separates.");
        String heat = upload("heat.md", "# Heat transfer\n\nHeat transfer to a blunt body in hypersonic flow rises near the stagnation point.");
        VectorStore store = openai.vectorStores().create(VectorStoreCreateParams.builder().name("aero").addFileId(wing)
                .metadata(VectorStoreCreateParams.Metadata.builder().putAdditionalProperty("team", JsonValue.from("flight")).build())
                .build());
        assertThat(store.id()).startsWith("vs_");
        assertThat(store.name()).isEqualTo("aero");
        VectorStoreFile added = openai.vectorStores().files().create(store.id(),
                com.openai.models.vectorstores.files.FileCreateParams.builder().fileId(heat)
                        .attributes(com.openai.models.vectorstores.files.FileCreateParams.Attributes.builder()
                                .putAdditionalProperty("year", JsonValue.from(1962)).build()).build());
        assertThat(added.status()).isEqualTo(VectorStoreFile.Status.IN_PROGRESS);
        idle();
        VectorStore done = openai.vectorStores().retrieve(store.id());
        assertThat(done.fileCounts().completed()).isEqualTo(2);
        assertThat(done.fileCounts().total()).isEqualTo(2);
        assertThat(done.usageBytes()).isPositive();
        assertThat(done.status()).isEqualTo(VectorStore.Status.COMPLETED);

        List<VectorStoreSearchResponse> hits = openai.vectorStores().search(store.id(),
                VectorStoreSearchParams.builder().query("heating of blunt bodies at hypersonic speed").maxNumResults(2).build()).data();
        assertThat(hits).isNotEmpty();
        assertThat(hits.getFirst().fileId()).isEqualTo(heat);
        assertThat(hits.getFirst().filename()).isEqualTo("heat.md");
        assertThat(hits.getFirst().content().getFirst().text()).contains("stagnation point");
        assertThat(hits.getFirst().score()).isPositive();

        var filtered = openai.vectorStores().search(store.id(), VectorStoreSearchParams.builder().query("flow")
                .filters(ComparisonFilter.builder().key("year").type(ComparisonFilter.Type.LT).value(1960).build()).build()).data();
        assertThat(filtered).as("no file has year < 1960").isEmpty();
        var recent = openai.vectorStores().search(store.id(), VectorStoreSearchParams.builder().query("flow")
                .filters(ComparisonFilter.builder().key("year").type(ComparisonFilter.Type.GTE).value(1960).build()).build()).data();
        assertThat(recent).extracting(VectorStoreSearchResponse::fileId).containsOnly(heat);

        assertThat(openai.vectorStores().files().list(store.id()).data()).extracting(VectorStoreFile::id).containsExactlyInAnyOrder(wing, heat);
        var content = openai.vectorStores().files().content(com.openai.models.vectorstores.files.FileContentParams.builder()
                .vectorStoreId(store.id()).fileId(wing).build()).data();
        assertThat(content.getFirst().text().orElseThrow()).contains("swept wing");

        VectorStoreFile updated = openai.vectorStores().files().update(wing, FileUpdateParams.builder().vectorStoreId(store.id())
                .attributes(FileUpdateParams.Attributes.builder().putAdditionalProperty("year", JsonValue.from(1970)).build()).build());
        assertThat(updated.attributes().orElseThrow()._additionalProperties()).containsKey("year");
        idle();
        assertThat(openai.vectorStores().search(store.id(), VectorStoreSearchParams.builder().query("lift of wings")
                .filters(ComparisonFilter.builder().key("year").type(ComparisonFilter.Type.EQ).value(1970).build()).build()).data())
                .extracting(VectorStoreSearchResponse::fileId).containsExactly(wing);

        assertThat(openai.vectorStores().files().delete(wing, com.openai.models.vectorstores.files.FileDeleteParams.builder()
                .vectorStoreId(store.id()).build()).deleted()).isTrue();
        assertThat(openai.vectorStores().retrieve(store.id()).fileCounts().total()).isEqualTo(1);
        assertThat(openai.vectorStores().delete(store.id()).deleted()).isTrue();
        assertThatThrownBy(() -> openai.vectorStores().retrieve(store.id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void aFileBatch_throughTheSdk() throws Exception {
        start(List.of());
        VectorStore store = openai.vectorStores().create(VectorStoreCreateParams.builder().name("batch").build());
        String a = upload("a.txt", "alpha particles"), b = upload("b.txt", "beta decay");
        var batch = openai.vectorStores().fileBatches().create(store.id(), FileBatchCreateParams.builder().addFileId(a).addFileId(b).build());
        assertThat(batch.id()).startsWith("vsfb_");
        idle();
        var now = openai.vectorStores().fileBatches().retrieve(batch.id(),
                com.openai.models.vectorstores.filebatches.FileBatchRetrieveParams.builder().vectorStoreId(store.id()).build());
        assertThat(now.status().asString()).isEqualTo("completed");
        assertThat(now.fileCounts().completed()).isEqualTo(2);
        assertThat(openai.vectorStores().fileBatches().listFiles(batch.id(),
                com.openai.models.vectorstores.filebatches.FileBatchListFilesParams.builder().vectorStoreId(store.id()).build()).data())
                .hasSize(2);
    }

    /** Llama Stack's vector-io routes as its 0.7 client sends them (chunks with embeddings) and as 0.2.x did (without). */
    @Test
    void vectorIo_insertsChunks_asTheyAre_andQueriesThem_inBothClientsShapes() throws Exception {
        start(List.of());
        String store = ok(call("POST", "/v1/vector_stores", "{\"name\":\"notes\"}", null)).path("id").asText();
        float[] paris = minilm.embed(new io.corral.api.EmbeddingRequest("all-MiniLM-L6-v2",
                List.of("Paris is the capital of France."))).vectors().getFirst();
        String vector = json.writeValueAsString(paris);
        var inserted = call("POST", "/v1/vector-io/insert", "{\"vector_store_id\":\"" + store + "\",\"chunks\":[{\"chunk_id\":\"c1\","
                + "\"content\":\"Paris is the capital of France.\",\"metadata\":{\"document_id\":\"geo\",\"page\":3},"
                + "\"chunk_metadata\":{\"document_id\":\"geo\",\"source\":\"atlas.txt\"},\"embedding\":" + vector + ","
                + "\"embedding_model\":\"all-MiniLM-L6-v2\",\"embedding_dimension\":384}]}", null);
        assertThat(inserted.statusCode()).as(inserted.body()).isEqualTo(200);
        assertThat(inserted.body()).isEqualTo("null");
        // a 0.2.x client: vector_db_id, no embedding, no chunk_id, the content as text items
        ok(call("POST", "/v1/vector-io/insert", "{\"vector_db_id\":\"" + store + "\",\"chunks\":[{\"content\":[{\"type\":\"text\","
                + "\"text\":\"Lyon is known for silk weaving.\"}],\"metadata\":{\"document_id\":\"silk\"}}]}", null));

        JsonNode found = ok(call("POST", "/v1/vector-io/query", "{\"vector_store_id\":\"" + store + "\",\"query\":\"What is the capital of France?\","
                + "\"params\":{\"max_chunks\":1}}", null));
        assertThat(found.path("chunks")).hasSize(1);
        JsonNode c = found.path("chunks").get(0);
        assertThat(c.path("chunk_id").asText()).isEqualTo("c1");
        assertThat(c.path("content").asText()).isEqualTo("Paris is the capital of France.");
        assertThat(c.path("metadata").path("page").asInt()).isEqualTo(3);
        assertThat(c.path("chunk_metadata").path("source").asText()).isEqualTo("atlas.txt");
        assertThat(c.path("embedding_dimension").asInt()).isEqualTo(384);
        assertThat((float) c.path("embedding").get(7).asDouble()).isEqualTo(paris[7]);
        assertThat(found.path("scores")).hasSize(1);
        assertThat(found.path("scores").get(0).asDouble()).isPositive();

        JsonNode silk = ok(call("POST", "/v1/vector-io/query", "{\"vector_db_id\":\"" + store + "\",\"query\":{\"type\":\"text\",\"text\":\"silk\"},"
                + "\"params\":{\"mode\":\"hybrid\",\"max_chunks\":2,\"ranker\":{\"type\":\"rrf\",\"impact_factor\":60}}}", null));
        assertThat(silk.path("chunks").get(0).path("content").asText()).isEqualTo("Lyon is known for silk weaving.");
        assertThat(silk.path("chunks").get(0).path("chunk_id").asText()).as("an id made for it").hasSize(36);
        assertThat(silk.path("chunks").get(0).path("embedding")).as("embedded by the store's model").hasSize(384);
        JsonNode keyword = ok(call("POST", "/v1/vector-io/query", "{\"vector_store_id\":\"" + store + "\",\"query\":\"silk weaving\","
                + "\"params\":{\"mode\":\"keyword\",\"reranker_type\":\"weighted\",\"reranker_params\":{\"alpha\":0.3}}}", null));
        assertThat(keyword.path("chunks")).hasSize(1);
        // OpenAI's search sees them too
        JsonNode search = ok(call("POST", "/v1/vector_stores/" + store + "/search", "{\"query\":\"silk\",\"search_mode\":\"keyword\"}", null));
        assertThat(search.path("data").get(0).path("content").get(0).path("text").asText()).isEqualTo("Lyon is known for silk weaving.");
        assertThat(search.path("data").get(0).path("attributes").path("document_id").asText()).isEqualTo("silk");

        for (String[] bad : List.of(
                new String[]{"/v1/vector-io/insert", "{\"vector_store_id\":\"" + store + "\",\"chunks\":[{\"content\":\"x\",\"embedding\":[1,2,3]}]}", "chunks[0].embedding"},
                new String[]{"/v1/vector-io/insert", "{\"vector_store_id\":\"" + store + "\",\"chunks\":[{\"content\":\"x\",\"embedding\":[1,2],\"embedding_dimension\":3}]}", "chunks[0].embedding_dimension"},
                new String[]{"/v1/vector-io/insert", "{\"vector_store_id\":\"" + store + "\",\"chunks\":[{\"content\":{\"type\":\"image\",\"image\":{\"url\":{\"uri\":\"http://x\"}}}}]}", "chunks[0].content"},
                new String[]{"/v1/vector-io/insert", "{\"vector_store_id\":\"" + store + "\",\"chunks\":[]}", "chunks"},
                new String[]{"/v1/vector-io/insert", "{\"chunks\":[{\"content\":\"x\"}]}", "vector_store_id"},
                new String[]{"/v1/vector-io/query", "{\"vector_store_id\":\"" + store + "\",\"query\":\"x\",\"params\":{\"mode\":\"fuzzy\"}}", "params.mode"},
                new String[]{"/v1/vector-io/query", "{\"vector_store_id\":\"" + store + "\",\"query\":\"x\",\"params\":{\"max_chunks\":\"3\"}}", "params.max_chunks"},
                new String[]{"/v1/vector-io/query", "{\"vector_store_id\":\"" + store + "\"}", "query"})) {
            var r = call("POST", bad[0], bad[1], null);
            assertThat(r.statusCode()).as(bad[1] + " -> " + r.body()).isEqualTo(400);
            assertThat(json.readTree(r.body()).at("/error/param").asText()).as(bad[1]).isEqualTo(bad[2]);
        }
        var missing = call("POST", "/v1/vector-io/query", "{\"vector_store_id\":\"vs_nothing\",\"query\":\"x\"}", null);
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    @Test
    void llamaStackShapes_embeddingModel_searchMode_andBothRankerForms() throws Exception {
        start(List.of());
        String a = upload("a.txt", "Cryogenic fuel tanks boil off liquid hydrogen.");
        String b = upload("b.txt", "Supersonic inlets swallow the normal shock.");
        JsonNode store = ok(call("POST", "/v1/vector_stores", json.writeValueAsString(Map.of("name", "ls",
                "file_ids", List.of(a, b), "embedding_model", OnnxEmbeddings.MODEL, "embedding_dimension", 384,
                "provider_id", "lucene", "chunking_strategy", Map.of("type", "static",
                        "static", Map.of("max_chunk_size_tokens", 200, "chunk_overlap_tokens", 50)))), null));
        assertThat(store.get("embedding_model").asText()).isEqualTo(OnnxEmbeddings.MODEL);
        String id = store.get("id").asText();
        idle();
        for (String ranking : List.of("{\"ranker\": \"rrf\", \"impact_factor\": 10}", "{\"ranker\": {\"type\": \"rrf\", \"impact_factor\": 10}}",
                "{\"ranker\": \"weighted\", \"alpha\": 0.3}", "{\"ranker\": {\"type\": \"weighted\", \"alpha\": 0.3}}")) {
            JsonNode page = ok(call("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": [\"hydrogen\", \"boil-off\"], "
                    + "\"search_mode\": \"hybrid\", \"rewrite_query\": false, \"ranking_options\": " + ranking + "}", null));
            assertThat(page.get("object").asText()).isEqualTo("vector_store.search_results.page");
            assertThat(page.get("search_query")).hasSize(2);
            assertThat(page.get("data").get(0).get("file_id").asText()).as(ranking).isEqualTo(a);
        }
        JsonNode keyword = ok(call("POST", "/v1/vector_stores/" + id + "/search",
                "{\"query\": \"shock\", \"search_mode\": \"keyword\"}", null));
        assertThat(keyword.get("data")).hasSize(1);
        assertThat(keyword.get("data").get(0).get("file_id").asText()).isEqualTo(b);
        JsonNode file = ok(call("GET", "/v1/vector_stores/" + id + "/files/" + a, null, null));
        assertThat(file.get("chunking_strategy").get("static").get("max_chunk_size_tokens").asInt()).isEqualTo(200);
    }

    @Test
    void badRequests_getAnOpenAiErrorNamingTheField() throws Exception {
        start(List.of());
        String id = ok(call("POST", "/v1/vector_stores", "{\"name\": \"x\"}", null)).get("id").asText();
        record Case(String method, String path, String body, int status, String param) {
        }
        for (Case c : List.of(
                new Case("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"a\", \"search_mode\": \"fuzzy\"}", 400, "search_mode"),
                new Case("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": 5}", 400, "query"),
                new Case("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"a\", \"max_num_results\": 99}", 400, "max_num_results"),
                new Case("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"a\", \"filters\": {\"type\": \"like\", \"key\": \"k\", \"value\": 1}}", 400, "filters"),
                new Case("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"a\", \"ranking_options\": {\"ranker\": \"rrf\", \"impact_factor\": 0}}", 400, "ranking_options"),
                new Case("POST", "/v1/vector_stores", "{\"name\": \"x\", \"embedding_dimension\": 768}", 400, "embedding_dimension"),
                new Case("POST", "/v1/vector_stores", "{\"name\": \"x\", \"chunking_strategy\": {\"type\": \"static\", \"static\": {\"max_chunk_size_tokens\": 50, \"chunk_overlap_tokens\": 0}}}", 400, "chunking_strategy"),
                new Case("POST", "/v1/vector_stores/" + id + "/files", "{\"file_id\": \"file-nope\"}", 404, "file_id"),
                new Case("GET", "/v1/vector_stores/vs_nope", null, 404, "vector_store_id"),
                new Case("POST", "/v1/vector_stores", "{\"name\": \"x\", \"embedding_model\": \"no-such-model\"}", 404, "model"))) {
            HttpResponse<String> r = call(c.method(), c.path(), c.body(), null);
            assertThat(r.statusCode()).as(c.body() + " -> " + r.body()).isEqualTo(c.status());
            JsonNode error = json.readTree(r.body()).get("error");
            assertThat(error.get("param").asText()).as(r.body()).isEqualTo(c.param());
            assertThat(error.get("message").asText()).isNotBlank();
        }
    }

    @Test
    void aStoreMadeWithOneKey_isInvisibleToAnother() throws Exception {
        start(List.of(KEY_A, KEY_B));
        String file = upload("a.txt", "mine alone");
        String id = ok(call("POST", "/v1/vector_stores", "{\"name\": \"a\", \"file_ids\": [\"" + file + "\"]}", KEY_A)).get("id").asText();
        idle();
        assertThat(call("GET", "/v1/vector_stores/" + id, null, KEY_B).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"mine\"}", KEY_B).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/vector_stores/" + id, null, KEY_B).statusCode()).isEqualTo(404);
        assertThat(ok(call("GET", "/v1/vector_stores", null, KEY_B)).get("data")).isEmpty();
        String other = ok(call("POST", "/v1/vector_stores", "{\"name\": \"b\"}", KEY_B)).get("id").asText();
        assertThat(call("POST", "/v1/vector_stores/" + other + "/files", "{\"file_id\": \"" + file + "\"}", KEY_B).statusCode())
                .as("another key's file").isEqualTo(404);
        assertThat(ok(call("POST", "/v1/vector_stores/" + id + "/search", "{\"query\": \"mine\"}", KEY_A)).get("data")).hasSize(1);
    }

    @Test
    void aBackupThroughTheApi_copiesTheState_andIsRefusedWhereItCannotBeMade() throws Exception {
        start(List.of());
        String file = upload("a.txt", "Ablation of heat shields during reentry.");
        String id = ok(call("POST", "/v1/vector_stores", "{\"name\": \"a\", \"file_ids\": [\"" + file + "\"]}", null)).get("id").asText();
        idle();
        Path target = dir.resolve("backup");
        JsonNode done = ok(call("POST", "/v1/admin/backup", json.writeValueAsString(Map.of("path", target.toString())), null));
        assertThat(done.get("path").asText()).isEqualTo(target.toString());
        assertThat(target.resolve("kvstore.db")).isRegularFile();
        assertThat(target.resolve("files").resolve(file)).isRegularFile();
        assertThat(target.resolve("vector_io").resolve(id)).isDirectory();
        HttpResponse<String> again = call("POST", "/v1/admin/backup", json.writeValueAsString(Map.of("path", target.toString())), null);
        assertThat(again.statusCode()).isEqualTo(400);
        assertThat(call("POST", "/v1/admin/backup", "{\"path\": \"relative/dir\"}", null).statusCode()).isEqualTo(400);
        // the copy serves: the store and its file, searchable
        try (var files2 = new LocalFilesProvider(target.resolve("files"), Clock.systemUTC());
             var kv2 = SqlKeyValueStore.sqlite(target.resolve("kvstore.db"), Clock.systemUTC());
             var restored = new VectorStoreService(files2, kv2, Map.of("lucene", new LuceneVectorIo(target.resolve("vector_io"))),
                     Embedder.of(minilm::embed, minilm::models), Clock.systemUTC(), VectorStoreService.Config.defaults())) {
            var hits = restored.search(null, id, new io.corral.spi.VectorStores.Search(List.of("heat shield ablation"), null, 5,
                    io.corral.spi.VectorIoProvider.Mode.HYBRID, io.corral.spi.Ranker.DEFAULT, 0));
            assertThat(hits).extracting(io.corral.spi.VectorStores.Result::fileId).containsExactly(file);
        }
    }
}

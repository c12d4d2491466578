package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ContentPart;
import io.corral.api.EmbeddingRequest;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.engines.EngineRegistry;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.spi.Capability;
import io.corral.spi.ModelInfo;
import io.corral.spi.ModelType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Model types and capabilities as real hosts report them (loopback servers speaking Ollama's, LM Studio's,
 * llama.cpp server's and vLLM's own APIs, their shapes as documented), and routing by them: an image goes
 * only to a runner that sees, an embedding request only to an embedding-capable model, and a model that
 * cannot do what is asked is a 400 naming it.
 */
class ModelKindsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static Host ollama;
    static Host lmstudio;
    static Host llamacpp;
    static Host vllm;
    static EngineRegistry registry;

    /** A host: fixed JSON answers by path, and a chat endpoint that counts what it served. */
    static final class Host implements AutoCloseable {
        final HttpServer server;
        final Map<String, AtomicInteger> chats = new ConcurrentHashMap<>();

        Host(Map<String, String> answers, Map<String, String> showByModel) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            answers.forEach((path, body) -> server.createContext(path, ex -> send(ex, 200, body)));
            if (showByModel != null) { // Ollama: POST /api/show {"model": ...}
                server.createContext("/api/show", ex -> {
                    String model = JSON.readTree(ex.getRequestBody()).path("model").asText();
                    String body = showByModel.get(model);
                    send(ex, body == null ? 404 : 200, body == null ? "{\"error\":\"model not found\"}" : body);
                });
            }
            server.createContext("/v1/chat/completions", ex -> {
                String model = JSON.readTree(ex.getRequestBody()).path("model").asText();
                chats.computeIfAbsent(model, k -> new AtomicInteger()).incrementAndGet();
                send(ex, 200, "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"" + model + "\",\"choices\":[{\"index\":0,"
                        + "\"message\":{\"role\":\"assistant\",\"content\":\"a cat\"},\"finish_reason\":\"stop\"}],"
                        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}");
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        int chats(String model) {
            return chats.getOrDefault(model, new AtomicInteger()).get();
        }

        static void send(HttpExchange ex, int status, String body) throws IOException {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    static String models(String... ids) {
        StringBuilder b = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < ids.length; i++) {
            b.append(i > 0 ? "," : "").append("{\"id\":\"").append(ids[i]).append("\",\"object\":\"model\",\"owned_by\":\"library\"}");
        }
        return b.append("]}").toString();
    }

    @BeforeAll
    static void start() throws IOException {
        // Ollama >= 0.6: /api/show lists capabilities; the embedding model has its vector size in model_info
        ollama = new Host(Map.of("/v1/models", models("llava:7b", "llama3.2:3b", "nomic-embed-text:latest")), Map.of(
                "llava:7b", "{\"capabilities\":[\"completion\",\"vision\"],\"model_info\":{\"llama.context_length\":4096}}",
                "llama3.2:3b", "{\"capabilities\":[\"completion\",\"tools\"],\"model_info\":{\"llama.embedding_length\":3072}}",
                "nomic-embed-text:latest", "{\"capabilities\":[\"embedding\"],\"model_info\":{\"nomic-bert.embedding_length\":768}}"));
        // LM Studio: /api/v0/models says llm, vlm or embeddings
        lmstudio = new Host(Map.of("/v1/models", models("qwen2-vl-7b-instruct", "text-embedding-nomic-embed-text-v1.5"),
                "/api/v0/models", "{\"object\":\"list\",\"data\":["
                        + "{\"id\":\"qwen2-vl-7b-instruct\",\"object\":\"model\",\"type\":\"vlm\",\"state\":\"loaded\",\"max_context_length\":32768},"
                        + "{\"id\":\"text-embedding-nomic-embed-text-v1.5\",\"object\":\"model\",\"type\":\"embeddings\",\"state\":\"not-loaded\"}]}"), null);
        // llama.cpp server: one model; /props says whether it sees images. It also serves llava:7b, without its projector.
        llamacpp = new Host(Map.of("/v1/models", models("llava:7b"),
                "/props", "{\"default_generation_settings\":{\"n_ctx\":4096},\"total_slots\":1,\"modalities\":{\"vision\":false,\"audio\":false}}"), null);
        // vLLM says nothing: the id decides
        vllm = new Host(Map.of("/v1/models", models("BAAI/bge-m3", "Qwen/Qwen2.5-7B-Instruct")), null);
        registry = new EngineRegistry(List.of(), EngineRegistry.hostsFrom(Map.of(
                "OLLAMA_HOSTS", ollama.url(), "LMSTUDIO_HOSTS", lmstudio.url(),
                "LLAMACPP_HOSTS", llamacpp.url(), "VLLM_HOSTS", vllm.url())),
                new Router.Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ofMillis(1)), Ticker.system(), Clock.systemUTC());
        registry.discover();
    }

    @AfterAll
    static void stop() {
        registry.close();
        List.of(ollama, lmstudio, llamacpp, vllm).forEach(Host::close);
    }

    static ModelInfo model(String id) {
        return registry.models().get(id).models().getFirst();
    }

    @Test
    void eachHostsModels_haveTheTypeAndCapabilitiesItReports() {
        ModelInfo ollamaLlava = registry.providers().stream().filter(p -> p.type().equals("remote::ollama"))
                .flatMap(p -> p.models().stream()).filter(m -> m.id().equals("llava:7b")).findFirst().orElseThrow();
        assertThat(ollamaLlava.type()).isEqualTo(ModelType.LLM);
        assertThat(ollamaLlava.capabilities()).contains(Capability.CHAT, Capability.VISION).doesNotContain(Capability.TOOLS);
        // merged over its two hosts, the model can do what either can
        assertThat(model("llava:7b").capabilities()).contains(Capability.VISION, Capability.TOOLS);
        assertThat(model("nomic-embed-text:latest").type()).isEqualTo(ModelType.EMBEDDING);
        assertThat(model("nomic-embed-text:latest").dimension()).isEqualTo(768);
        assertThat(model("nomic-embed-text:latest").capabilities()).containsExactly(Capability.EMBEDDINGS);
        assertThat(model("qwen2-vl-7b-instruct").capabilities()).contains(Capability.VISION, Capability.CHAT);
        assertThat(model("text-embedding-nomic-embed-text-v1.5").type()).isEqualTo(ModelType.EMBEDDING);
        assertThat(model("BAAI/bge-m3").type()).isEqualTo(ModelType.EMBEDDING);
        assertThat(model("Qwen/Qwen2.5-7B-Instruct").type()).isEqualTo(ModelType.LLM);
        assertThat(model("Qwen/Qwen2.5-7B-Instruct").capabilities()).doesNotContain(Capability.VISION, Capability.EMBEDDINGS);
        // one id on two hosts: two runners, only Ollama's sees images
        assertThat(registry.models().get("llava:7b").runners()).extracting(r -> r.can(Capability.VISION))
                .containsExactlyInAnyOrder(true, false);
    }

    @Test
    void routing_sendsEachRequestOnlyWhereItsCapabilityIs() {
        ChatMessage withImage = new ChatMessage(Role.USER,
                List.of(ContentPart.text("What is this?"), ContentPart.image("data:image/png;base64,iVBORw0KGgo=")), List.of(), null);
        int before = ollama.chats("llava:7b");
        for (int i = 0; i < 3; i++) { // the llama.cpp runner, equally local and idle, is never asked
            assertThat(registry.resolve("llava:7b").chat(ChatRequest.builder().model("llava:7b").message(withImage).build())
                    .text()).isEqualTo("a cat");
        }
        assertThat(ollama.chats("llava:7b")).isEqualTo(before + 3);
        assertThat(llamacpp.chats("llava:7b")).isZero();

        assertThatThrownBy(() -> registry.resolve("llama3.2:3b").chat(ChatRequest.builder().model("llama3.2:3b")
                .message(withImage).build())).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("llama3.2:3b (llm) does not accept images");
        assertThatThrownBy(() -> registry.resolve("nomic-embed-text:latest").chat(ChatRequest.builder()
                .model("nomic-embed-text:latest").user("hi").build())).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("(embedding) does not chat");
        assertThatThrownBy(() -> registry.resolve("Qwen/Qwen2.5-7B-Instruct").embed(
                new EmbeddingRequest("Qwen/Qwen2.5-7B-Instruct", List.of("x")))).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("does not make embeddings");
    }

    @Test
    void theServer_showsTypes_andAnswers400ForAMissingCapability() throws Exception {
        try (CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0), registry);
             HttpClient http = HttpClient.newHttpClient()) {
            JsonNode list = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            Map<String, String> types = new java.util.HashMap<>();
            list.get("data").forEach(m -> types.put(m.get("id").asText(), m.get("model_type").asText()));
            assertThat(types).containsEntry("nomic-embed-text:latest", "embedding").containsEntry("llava:7b", "llm")
                    .containsEntry("BAAI/bge-m3", "embedding");
            JsonNode engines = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/engines")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertThat(engines.findValues("models").stream().flatMap(ms -> java.util.stream.StreamSupport.stream(ms.spliterator(), false))
                    .filter(m -> m.get("id").asText().equals("nomic-embed-text:latest")).findFirst().orElseThrow()
                    .get("embedding_dimension").asInt()).isEqualTo(768);

            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/embeddings"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"llava:7b\",\"input\":\"a cat\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(400);
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertThat(error.get("param").asText()).isEqualTo("model");
            assertThat(error.get("message").asText()).contains("llava:7b (llm) does not make embeddings");
        }
    }
}

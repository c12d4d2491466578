package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Ollama's API on Corral's port, driven by the official {@code ollama} JavaScript client from npm, over the real in-process model. */
class OllamaClientTest {

    static final String VERSION = "0.6.4";

    @Test
    void theOfficialOllamaClient_listsChatsGeneratesAndEmbeds(@TempDir Path dir) throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1));
        try (CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0), List.of(engine))) {
            JsonNode seen = NodeScript.run(NodeScript.ollama(), "ollama-client.cjs", dir, server.url(), "stories260K");
            assertThat(seen.path("models").toString()).contains("stories260K");
            assertThat(seen.path("capabilities").toString()).contains("completion");
            // what clients show and size their prompts by: the details as Ollama fills them from the GGUF header, and
            // model_info under GGUF's own keys (<architecture>.context_length is the trained window)
            for (String where : List.of("listedDetails", "details")) {
                JsonNode d = seen.path(where);
                assertThat(d.path("format").asText()).isEqualTo("gguf");
                assertThat(d.path("family").asText()).isEqualTo("llama");
                assertThat(d.path("families").toString()).isEqualTo("[\"llama\"]");
                assertThat(d.path("parameter_size").asText()).isEqualTo("293K"); // 292,800 parameters, as Ollama rounds them
                assertThat(d.path("quantization_level").asText()).isEqualTo("F32");
            }
            // an error in Ollama's shape, {"error": "..."}: the client's ResponseError carries its text and status
            assertThat(seen.path("missing").path("status").asInt()).isEqualTo(404);
            assertThat(seen.path("missing").path("message").isTextual()).isTrue();
            assertThat(seen.path("missing").path("message").asText()).contains("no-such-model").contains("not found");
            JsonNode info = seen.path("modelInfo");
            assertThat(info.path("general.architecture").asText()).isEqualTo("llama");
            assertThat(info.path("general.parameter_count").asLong()).isEqualTo(292_800);
            assertThat(info.path("llama.context_length").asInt()).isEqualTo(512);
            assertThat(info.path("llama.embedding_length").asInt()).isEqualTo(64);
            assertThat(info.path("llama.block_count").asInt()).isEqualTo(5);
            assertThat(info.path("llama.attention.head_count_kv").asInt()).isEqualTo(4);
            assertThat(java.time.Instant.parse(seen.path("listedModified").asText()))
                    .isEqualTo(Files.getLastModifiedTime(OpenAiRemoteProviderTest.stories()).toInstant()); // the file's time
            assertThat(seen.path("whole").asText()).isNotEmpty();
            assertThat(seen.path("streamed").asText()).isEqualTo(seen.path("whole").asText()); // greedy: the same text, streamed
            assertThat(seen.path("lastDone").asBoolean()).isTrue();
            assertThat(seen.path("reason").asText()).isEqualTo("length");
            assertThat(seen.path("evalCount").asInt()).isEqualTo(8);
            assertThat(seen.path("generated").asText()).isNotEmpty();
            assertThat(seen.path("embeddings").asInt()).isEqualTo(2);
            assertThat(seen.path("dims").asInt()).isGreaterThan(0);
        }
    }

    @Test
    void theOfficialOllamaClient_pullsAModel_chatsWithIt_copiesAndDeletesIt(@TempDir Path dir) throws Exception {
        var layers = new java.util.LinkedHashMap<String, byte[]>();
        layers.put("application/vnd.ollama.image.model", Files.readAllBytes(OpenAiRemoteProviderTest.stories()));
        com.sun.net.httpserver.HttpServer registry = registry("tiny", layers);
        try (Served served = serve(dir, registry)) {
            JsonNode seen = NodeScript.run(NodeScript.ollama(), "ollama-pull.cjs", dir, served.server().url());
            assertThat(seen.path("first").asText()).isEqualTo("pulling manifest");
            assertThat(seen.path("last").asText()).isEqualTo("success");
            assertThat(seen.path("listed").toString()).contains("\"tiny\"");
            assertThat(seen.path("digest").asText()).isEqualTo(java.util.HexFormat.of().formatHex(java.security.MessageDigest
                    .getInstance("SHA-256").digest(layers.get("application/vnd.ollama.image.model")))); // the file's sha256, as Ollama lists it
            // listed before it is loaded with what its file's header says
            assertThat(seen.path("size").asLong()).isEqualTo(layers.get("application/vnd.ollama.image.model").length);
            assertThat(seen.path("family").asText()).isEqualTo("llama");
            assertThat(seen.path("answered").asBoolean()).isTrue();
            assertThat(seen.path("copied").toString()).contains("\"tiny-copy\"");
            assertThat(seen.path("after").toString()).doesNotContain("tiny");
        } finally {
            registry.stop(0);
        }
    }

    @Test
    void theOfficialOllamaClient_pullsAVisionModelWithItsProjector_andChatsWithImages(@TempDir Path dir) throws Exception {
        var layers = new java.util.LinkedHashMap<String, byte[]>();
        layers.put("application/vnd.ollama.image.model", Files.readAllBytes(OpenAiRemoteProviderTest.stories()));
        layers.put("application/vnd.ollama.image.projector", Files.readAllBytes(io.corral.gguf.TinyProjector.write(dir.resolve("p.gguf"), 64)));
        com.sun.net.httpserver.HttpServer registry = registry("eyes", layers);
        try (Served served = serve(dir, registry)) {
            JsonNode seen = NodeScript.run(NodeScript.ollama(), "ollama-vision.cjs", dir, served.server().url(),
                    png(dir.resolve("a.png"), 1).toString(), png(dir.resolve("b.png"), 2).toString());
            assertThat(seen.path("capabilities").toString()).contains("\"vision\"");
            assertThat(seen.path("a").asText()).isNotBlank().isNotEqualTo(seen.path("b").asText());
            assertThat(seen.path("none").asText()).isNotEqualTo(seen.path("a").asText());
            assertThat(seen.path("promptA").asInt() - seen.path("promptNone").asInt()).isEqualTo(io.corral.gguf.TinyProjector.TOKENS);
        } finally {
            registry.stop(0);
        }
    }

    /** An Ollama registry on loopback with one model, {@code NAME:latest}: its manifest, and its layers' blobs by digest. */
    static com.sun.net.httpserver.HttpServer registry(String name, java.util.Map<String, byte[]> layers) throws Exception {
        var blobs = new java.util.HashMap<String, byte[]>();
        StringBuilder manifest = new StringBuilder("{\"schemaVersion\":2,\"layers\":[");
        for (var layer : layers.entrySet()) {
            String digest = sha(layer.getValue());
            blobs.put(digest, layer.getValue());
            manifest.append(blobs.size() > 1 ? "," : "").append("{\"mediaType\":\"").append(layer.getKey())
                    .append("\",\"digest\":\"sha256:").append(digest).append("\",\"size\":").append(layer.getValue().length).append('}');
        }
        byte[] m = manifest.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        com.sun.net.httpserver.HttpServer registry = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/v2/library/" + name + "/manifests/latest", ex -> {
            ex.sendResponseHeaders(200, m.length);
            ex.getResponseBody().write(m);
            ex.close();
        });
        registry.createContext("/v2/library/" + name + "/blobs/", ex -> {
            String path = ex.getRequestURI().getPath();
            byte[] b = blobs.get(path.substring(path.lastIndexOf(':') + 1));
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        registry.start();
        return registry;
    }

    /** A server that pulls from {@code registry} into a store under {@code dir} and serves what it pulled on demand. */
    record Served(io.corral.engines.OnDemand onDemand, CorralServer server) implements AutoCloseable {
        public void close() {
            server.close();
            onDemand.close();
        }
    }

    static Served serve(Path dir, com.sun.net.httpserver.HttpServer registry) {
        io.corral.models.ModelStore store = new io.corral.models.ModelStore(dir.resolve("models"));
        io.corral.engines.OnDemand onDemand = new io.corral.engines.OnDemand(
                () -> store.list().stream().map(io.corral.models.ModelStore.Model::name).toList(), n -> store.find(n).map(io.corral.models.ModelStore.Model::file),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1).withContextSize(256)),
                java.time.Duration.ofMinutes(5), 1L << 30, java.time.Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        return new Served(onDemand, CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(io.corral.testing.ScriptedProvider.chat("p", "other")))
                .onDemand(onDemand)
                .library(new io.corral.models.PulledModels(store, new io.corral.models.Puller(store, null,
                        "http://127.0.0.1:" + registry.getAddress().getPort(), io.corral.api.UrlPolicy.PUBLIC_ONLY))).start());
    }

    static String sha(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    static Path png(Path file, long seed) throws java.io.IOException {
        return Files.write(file, io.corral.gguf.TinyProjector.png(seed, 24, 24));
    }
}

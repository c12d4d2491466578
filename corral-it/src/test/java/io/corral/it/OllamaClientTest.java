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
        byte[] gguf = Files.readAllBytes(OpenAiRemoteProviderTest.stories());
        String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(gguf));
        com.sun.net.httpserver.HttpServer registry = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/v2/library/tiny/manifests/latest", ex -> {
            byte[] b = ("{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:"
                    + digest + "\",\"size\":" + gguf.length + "}]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        registry.createContext("/v2/library/tiny/blobs/", ex -> {
            ex.sendResponseHeaders(200, gguf.length);
            ex.getResponseBody().write(gguf);
            ex.close();
        });
        registry.start();
        io.corral.models.ModelStore store = new io.corral.models.ModelStore(dir.resolve("models"));
        io.corral.engines.OnDemand onDemand = new io.corral.engines.OnDemand(
                () -> store.list().stream().map(io.corral.models.ModelStore.Model::name).toList(), n -> store.find(n).map(io.corral.models.ModelStore.Model::file),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1)),
                java.time.Duration.ofMinutes(5), 1L << 30, java.time.Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(io.corral.testing.ScriptedProvider.chat("p", "other")))
                .onDemand(onDemand)
                .library(new io.corral.models.PulledModels(store, new io.corral.models.Puller(store, null,
                        "http://127.0.0.1:" + registry.getAddress().getPort(), io.corral.api.UrlPolicy.PUBLIC_ONLY))).start()) {
            JsonNode seen = NodeScript.run(NodeScript.ollama(), "ollama-pull.cjs", dir, server.url());
            assertThat(seen.path("first").asText()).isEqualTo("pulling manifest");
            assertThat(seen.path("last").asText()).isEqualTo("success");
            assertThat(seen.path("listed").toString()).contains("\"tiny\"");
            assertThat(seen.path("answered").asBoolean()).isTrue();
            assertThat(seen.path("copied").toString()).contains("\"tiny-copy\"");
            assertThat(seen.path("after").toString()).doesNotContain("tiny");
        } finally {
            registry.stop(0);
        }
    }

    @Test
    void theOfficialOllamaClient_pullsAVisionModelWithItsProjector_andChatsWithImages(@TempDir Path dir) throws Exception {
        byte[] gguf = Files.readAllBytes(OpenAiRemoteProviderTest.stories());
        byte[] projector = Files.readAllBytes(io.corral.gguf.TinyProjector.write(dir.resolve("p.gguf"), 64));
        String model = sha(gguf);
        String proj = sha(projector);
        com.sun.net.httpserver.HttpServer registry = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/v2/library/eyes/manifests/latest", ex -> {
            byte[] b = ("{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:"
                    + model + "\",\"size\":" + gguf.length + "},{\"mediaType\":\"application/vnd.ollama.image.projector\",\"digest\":\"sha256:"
                    + proj + "\",\"size\":" + projector.length + "}]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        registry.createContext("/v2/library/eyes/blobs/", ex -> {
            byte[] b = ex.getRequestURI().getPath().endsWith(proj) ? projector : gguf;
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        registry.start();
        io.corral.models.ModelStore store = new io.corral.models.ModelStore(dir.resolve("models"));
        io.corral.engines.OnDemand onDemand = new io.corral.engines.OnDemand(
                () -> store.list().stream().map(io.corral.models.ModelStore.Model::name).toList(), n -> store.find(n).map(io.corral.models.ModelStore.Model::file),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1).withContextSize(256)),
                java.time.Duration.ofMinutes(5), 1L << 30, java.time.Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(io.corral.testing.ScriptedProvider.chat("p", "other")))
                .onDemand(onDemand)
                .library(new io.corral.models.PulledModels(store, new io.corral.models.Puller(store, null,
                        "http://127.0.0.1:" + registry.getAddress().getPort(), io.corral.api.UrlPolicy.PUBLIC_ONLY))).start()) {
            JsonNode seen = NodeScript.run(NodeScript.ollama(), "ollama-vision.cjs", dir, server.url(),
                    png(dir.resolve("a.png"), 1).toString(), png(dir.resolve("b.png"), 2).toString());
            assertThat(seen.path("capabilities").toString()).contains("\"vision\"");
            assertThat(seen.path("a").asText()).isNotBlank().isNotEqualTo(seen.path("b").asText());
            assertThat(seen.path("none").asText()).isNotEqualTo(seen.path("a").asText());
            assertThat(seen.path("promptA").asInt() - seen.path("promptNone").asInt()).isEqualTo(io.corral.gguf.TinyProjector.TOKENS);
        } finally {
            registry.stop(0);
        }
    }

    static String sha(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    static Path png(Path file, long seed) throws java.io.IOException {
        var im = new java.awt.image.BufferedImage(24, 24, java.awt.image.BufferedImage.TYPE_INT_RGB);
        var r = new java.util.SplittableRandom(seed);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 24; x++) {
                im.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        javax.imageio.ImageIO.write(im, "png", file.toFile());
        return file;
    }
}

package io.corral.it;

import io.corral.engines.OnDemand;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.testing.ScriptedProvider;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A pulled model is listed before it is loaded, loaded on its first request (OpenAI's or Ollama's API), and answers. */
class OnDemandServeTest {

    @Test
    void aPulledModel_isListed_thenLoadedOnItsFirstRequest() throws Exception {
        OnDemand onDemand = new OnDemand(() -> List.of("tiny"), n -> n.equals("tiny") ? Optional.of(OpenAiRemoteProviderTest.stories()) : Optional.empty(),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1)),
                Duration.ofMinutes(5), 1L << 30, Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        HttpClient http = HttpClient.newHttpClient();
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(ScriptedProvider.chat("p", "other"))).onDemand(onDemand).start()) {
            String models = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(models).contains("\"tiny\"").contains("\"other\"");
            assertThat(onDemand.loaded()).isEmpty();
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"max_tokens\":8,\"temperature\":0,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            assertThat(onDemand.loaded()).extracting(io.corral.spi.OnDemandModels.Loaded::name).containsExactly("tiny");
            HttpResponse<String> ollama = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"prompt\":\"Once\",\"stream\":false,"
                            + "\"options\":{\"num_predict\":4}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ollama.statusCode()).as(ollama.body()).isEqualTo(200);
            assertThat(ollama.body()).contains("\"done\":true");
        }
    }

    @Test
    void keepAlive_ps_andTheAdminRoutes_loadAndUnload() throws Exception {
        long size = java.nio.file.Files.size(OpenAiRemoteProviderTest.stories());
        OnDemand onDemand = new OnDemand(() -> List.of("tiny"), n -> n.equals("tiny") ? Optional.of(OpenAiRemoteProviderTest.stories()) : Optional.empty(),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1)),
                Duration.ofMinutes(5), 1L << 30, Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(ScriptedProvider.chat("p", "other"))).onDemand(onDemand).start()) {
            String base = server.url();
            // a request that keeps its model for ever
            var gen = post(base + "/api/generate", "{\"model\":\"tiny\",\"prompt\":\"Once\",\"stream\":false,\"keep_alive\":-1,"
                    + "\"options\":{\"num_predict\":2}}");
            assertThat(gen.statusCode()).as(gen.body()).isEqualTo(200);
            JsonNode ps = get(base + "/api/ps");
            JsonNode tiny = find(ps.get("models"), "tiny");
            assertThat(tiny.get("size").asLong()).isEqualTo(size);
            assertThat(tiny.get("expires_at").asText()).isEqualTo("2318-06-12T00:00:00Z");
            assertThat(tiny.get("size_vram").asLong()).isZero(); // on the CPU here
            assertThat(find(ps.get("models"), "other").get("expires_at").asText()).isEqualTo("2318-06-12T00:00:00Z");
            // then ten minutes: it unloads ten minutes from now
            post(base + "/api/generate", "{\"model\":\"tiny\",\"prompt\":\"Once\",\"stream\":false,\"keep_alive\":\"10m\","
                    + "\"options\":{\"num_predict\":2}}");
            java.time.Instant expires = java.time.Instant.parse(find(get(base + "/api/ps").get("models"), "tiny").get("expires_at").asText());
            assertThat(expires).isBetween(java.time.Instant.now().plus(Duration.ofMinutes(9)), java.time.Instant.now().plus(Duration.ofMinutes(11)));
            // Ollama's unload: nothing to generate and keep_alive 0
            var unload = post(base + "/api/generate", "{\"model\":\"tiny\",\"keep_alive\":0}");
            assertThat(Json.read(unload.body()).get("done_reason").asText()).isEqualTo("unload");
            assertThat(onDemand.loaded()).isEmpty();
            assertThat(find(get(base + "/api/ps").get("models"), "tiny")).isNull();
            // a keep_alive that is no duration names the field
            var bad = post(base + "/api/chat", "{\"model\":\"tiny\",\"keep_alive\":\"five minutes\",\"messages\":[]}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(Json.read(bad.body()).get("error").asText()).contains("keep_alive"); // Ollama's error shape: a message

            // Corral's admin routes: list, load, unload
            assertThat(get(base + "/v1/admin/models").at("/data/0/loaded").asBoolean()).isFalse();
            var load = post(base + "/v1/admin/models/load", "{\"model\":\"tiny\",\"keep_alive\":\"1h\"}");
            assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
            JsonNode listed = get(base + "/v1/admin/models").at("/data/0");
            assertThat(listed.get("id").asText()).isEqualTo("tiny");
            assertThat(listed.get("loaded").asBoolean()).isTrue();
            assertThat(listed.get("bytes").asLong()).isEqualTo(size);
            assertThat(listed.get("device").asText()).isEqualTo("CPU");
            assertThat(listed.get("gpu_layers").asInt()).isZero();
            assertThat(java.time.Instant.parse(listed.get("expires_at").asText())).isAfter(java.time.Instant.now().plus(Duration.ofMinutes(59)));
            assertThat(post(base + "/v1/admin/models/unload", "{\"model\":\"tiny\"}").statusCode()).isEqualTo(200);
            assertThat(onDemand.loaded()).isEmpty();
            assertThat(post(base + "/v1/admin/models/unload", "{\"model\":\"tiny\"}").statusCode()).isEqualTo(404);
            assertThat(post(base + "/v1/admin/models/load", "{\"model\":\"nothing\"}").statusCode()).isEqualTo(404);
            var noModel = post(base + "/v1/admin/models/load", "{}");
            assertThat(noModel.statusCode()).isEqualTo(400);
            assertThat(Json.read(noModel.body()).at("/error/param").asText()).isEqualTo("model");
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode get(String url) throws Exception {
        return Json.read(HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private static JsonNode find(JsonNode list, String name) {
        for (JsonNode m : list) {
            if (m.get("name").asText().equals(name)) {
                return m;
            }
        }
        return null;
    }

    /** Jackson, read. */
    static final class Json {
        static JsonNode read(String s) throws Exception {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(s);
        }
    }
}

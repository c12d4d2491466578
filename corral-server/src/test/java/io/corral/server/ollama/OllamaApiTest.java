package io.corral.server.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.Json;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static io.corral.testing.ScriptedProvider.answer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Ollama's API where its official client (corral-it's OllamaClientTest) does not reach: parameter sizes as Ollama writes
 * them, options checked as Ollama checks them, and bad requests answered with a 400 in Ollama's error shape.
 */
class OllamaApiTest {

    static JsonNode tree(String json) throws Exception {
        return Json.MAPPER.readTree(json);
    }

    @Test
    void parameterSizes_asOllamaWritesThem() {
        assertThat(OllamaApi.humanNumber(8_030_261_248L)).isEqualTo("8.0B"); // Llama 3 8B, as Ollama's API docs show it
        assertThat(OllamaApi.humanNumber(3_000_000_000L)).isEqualTo("3B"); // whole numbers without decimals
        assertThat(OllamaApi.humanNumber(1_235_814_400L)).isEqualTo("1.2B");
        assertThat(OllamaApi.humanNumber(22_713_216L)).isEqualTo("22.71M");
        assertThat(OllamaApi.humanNumber(7_000_000L)).isEqualTo("7M");
        assertThat(OllamaApi.humanNumber(292_800L)).isEqualTo("293K");
        assertThat(OllamaApi.humanNumber(999L)).isEqualTo("999");
    }

    @Test
    void options_ofTheWrongType_areRefused_namingTheOption() throws Exception {
        var ok = OllamaApi.sampling(tree("{\"temperature\":0.2,\"num_predict\":8.0,\"top_k\":40,\"stop\":[\"\\n\"],\"num_ctx\":4096}"));
        assertThat(ok.temperature()).isEqualTo(0.2);
        assertThat(ok.maxTokens()).isEqualTo(8);
        assertThat(ok.topK()).isEqualTo(40);
        assertThat(ok.stop()).containsExactly("\n");
        assertThat(OllamaApi.sampling(tree("{\"num_predict\":-1}")).maxTokens()).isZero(); // as many as fit
        for (String[] bad : new String[][]{{"{\"num_predict\":\"many\"}", "options.num_predict"},
                {"{\"temperature\":\"hot\"}", "options.temperature"}, {"{\"seed\":true}", "options.seed"},
                {"{\"stop\":\"\\n\"}", "options.stop"}, {"{\"stop\":[1]}", "options.stop"}, {"[1]", "options"}}) {
            assertThatThrownBy(() -> OllamaApi.sampling(tree(bad[0]))).as(bad[0])
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(Errors.map(e).param()).isEqualTo(bad[1]));
        }
    }

    /** A server over a scripted chat model {@code m} with a 64 KB body bound, and what the model was asked. */
    private static final ScriptedProvider MODEL = ScriptedProvider.chat("p", "m").then(answer("zebra"));
    private static CorralServer server;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = CorralServer.builder(ServerConfig.defaults().withPort(0).withLimits(64 * 1024, 16)).providers(List.of(MODEL)).start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aBadRequest_isA400_inOllamasErrorShape_andNoModelRuns() throws Exception {
        for (String body : List.of("{\"model\":\"m\",\"messages\":\"hi\"}",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":\"many\"}}",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":\"x\"}",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{}}]}")) {
            HttpResponse<String> r = post("/api/chat", body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            JsonNode error = tree(r.body()).path("error");
            assertThat(error.isTextual()).as(r.body()).isTrue(); // {"error": "..."}, not OpenAI's object
            assertThat(error.asText()).containsAnyOf("messages", "num_predict", "tools");
        }
        for (String body : List.of("{\"model\":\"m\",\"input\":[1]}", "{\"model\":\"m\",\"input\":\"x\",\"truncate\":\"no\"}")) {
            HttpResponse<String> r = post("/api/embed", body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(tree(r.body()).path("error").isTextual()).as(r.body()).isTrue();
        }
        assertThat(MODEL.requests()).isEmpty();
    }

    @Test
    void nothingToEmbed_loadsTheModel_asOllamaDoes() throws Exception {
        assertThat(tree(post("/api/embed", "{\"model\":\"m\",\"input\":[]}").body()).toString())
                .isEqualTo("{\"model\":\"m\",\"embeddings\":[]}");
        assertThat(tree(post("/api/embed", "{\"model\":\"m\"}").body()).toString()).isEqualTo("{\"model\":\"m\",\"embeddings\":[]}");
        assertThat(tree(post("/api/embeddings", "{\"model\":\"m\"}").body()).toString()).isEqualTo("{\"embedding\":[]}");
        assertThat(post("/api/embed", "{\"model\":\"nope\",\"input\":\"\"}").statusCode()).isEqualTo(404); // nobody serves it
        assertThat(MODEL.requests()).isEmpty(); // no vector was asked for
    }

    @Test
    void aBodyOverTheBound_isRefusedByTheTransport_inTheShapeOfItsApi() throws Exception {
        HttpResponse<String> big = post("/api/chat", "{\"model\":\"" + "x".repeat(70_000) + "\"}");
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(tree(big.body()).path("error").isTextual()).as(big.body()).isTrue();
        assertThat(tree(post("/v1/chat/completions", "{\"model\":\"" + "x".repeat(70_000) + "\"}").body())
                .at("/error/code").asText()).isEqualTo("request_too_large"); // OpenAI's elsewhere
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

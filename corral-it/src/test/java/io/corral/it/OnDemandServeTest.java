package io.corral.it;

import io.corral.engines.OnDemand;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.testing.ScriptedProvider;
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
        OnDemand onDemand = new OnDemand(n -> n.equals("tiny") ? Optional.of(OpenAiRemoteProviderTest.stories()) : Optional.empty(),
                (name, file) -> LlamaCppEngine.open(LlamaCppConfig.of(file).withId(name).withThreads(1)),
                Duration.ofMinutes(5), 1L << 30, System::nanoTime);
        HttpClient http = HttpClient.newHttpClient();
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0))
                .providers(List.of(ScriptedProvider.chat("p", "other"))).onDemand(onDemand::get, () -> List.of("tiny")).start()) {
            String models = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(models).contains("\"tiny\"").contains("\"other\"");
            assertThat(onDemand.loaded()).isEmpty();
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"max_tokens\":8,\"temperature\":0,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            assertThat(onDemand.loaded()).containsOnlyKeys("tiny");
            HttpResponse<String> ollama = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"prompt\":\"Once\",\"stream\":false,"
                            + "\"options\":{\"num_predict\":4}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ollama.statusCode()).as(ollama.body()).isEqualTo(200);
            assertThat(ollama.body()).contains("\"done\":true");
        }
    }
}

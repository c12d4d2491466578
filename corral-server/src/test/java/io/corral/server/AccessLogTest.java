package io.corral.server;

import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.testing.LogLines;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The access log carries ids, routes, statuses, models and tokens, never content unless asked, never keys. */
class AccessLogTest {

    static List<String> capture(boolean logContent) throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
        return LogLines.during("corral.access", () -> {
            try (CorralServer s = CorralServer.start(ServerConfig.defaults().withPort(0)
                    .withApiKeys(List.of("topsecretkey1")).withContentLogging(logContent), List.of(engine))) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                        .header("Authorization", "Bearer topsecretkey1")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"max_tokens\":4,\"temperature\":0,"
                                + "\"messages\":[{\"role\":\"user\",\"content\":\"My key is sk-abcdefgh12345 and topsecretkey1. Once upon a time\"}]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                return r;
            }
        });
    }

    @Test
    void byDefault_noPromptOrAnswer() throws Exception {
        List<String> lines = capture(false);
        assertThat(lines).singleElement().satisfies(l -> {
            assertThat(l).matches("[0-9a-z]+ POST /v1/chat/completions 200 model=stories260K device=CPU gpu_layers=0/6 tokens=\\d+\\+4 [0-9.]+ms client=127\\.0\\.0\\.1");
            assertThat(l).doesNotContain("Once upon").doesNotContain("topsecret");
        });
    }

    @Test
    void debugSwitch_logsContent_withKeysRedacted() throws Exception {
        List<String> lines = capture(true);
        assertThat(lines).hasSize(2);
        assertThat(lines).filteredOn(l -> l.contains(" POST /v1/chat/completions 200 ")).hasSize(1);
        assertThat(lines).filteredOn(l -> l.contains(" content: ")).singleElement().asString().contains("content: request=").contains("Once upon a time").contains("answer=")
                .doesNotContain("topsecretkey1").doesNotContain("sk-abcdefgh12345").contains("[redacted]");
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.http.ApiException;
import io.corral.server.http.ApiKeys;
import io.corral.server.http.RateLimits;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Per key limits on requests and tokens a minute, with OpenAI's headers: the buckets with an injected clock, then a real server. */
class RateLimitsTest {

    static final long SECOND = 1_000_000_000L;
    final AtomicLong now = new AtomicLong();

    @Test
    void requests_refillOverAMinute_andA429SaysWhenToComeBack() {
        RateLimits limits = new RateLimits(new RateLimits.Config(new RateLimits.Limit(2, 0), Map.of()), ApiKeys::tenantOf, now::get);
        assertThat(limits.admit("t")).containsEntry("x-ratelimit-limit-requests", "2")
                .containsEntry("x-ratelimit-remaining-requests", "1").containsEntry("x-ratelimit-reset-requests", "30s")
                .doesNotContainKey("x-ratelimit-limit-tokens");
        assertThat(limits.admit("t")).containsEntry("x-ratelimit-remaining-requests", "0")
                .containsEntry("x-ratelimit-reset-requests", "1m0s");
        assertThatThrownBy(() -> limits.admit("t")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.getMessage()).isEqualTo("Rate limit reached on requests per min (RPM): Limit 2. Please try again in 30s.");
        });
        assertThat(limits.admit("other tenant")).containsEntry("x-ratelimit-remaining-requests", "1"); // each its own
        now.addAndGet(29 * SECOND);
        assertThatThrownBy(() -> limits.admit("t")).isInstanceOf(ApiException.class);
        now.addAndGet(SECOND);
        assertThat(limits.admit("t")).containsEntry("x-ratelimit-remaining-requests", "0");
    }

    @Test
    void tokens_areTakenWhenUsageIsKnown_andAKeyMayHaveItsOwnLimits() {
        RateLimits limits = new RateLimits(new RateLimits.Config(new RateLimits.Limit(0, 100),
                Map.of("sk-special", new RateLimits.Limit(1, 0))), ApiKeys::tenantOf, now::get);
        assertThat(limits.any()).isTrue();
        assertThat(limits.admit("t")).containsEntry("x-ratelimit-limit-tokens", "100").containsEntry("x-ratelimit-remaining-tokens", "100")
                .doesNotContainKey("x-ratelimit-limit-requests");
        limits.record("t", 150); // one answer used more than the minute's budget
        assertThatThrownBy(() -> limits.admit("t")).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.getMessage()).isEqualTo("Rate limit reached on tokens per min (TPM): Limit 100. Please try again in 31s."));
        now.addAndGet(31 * SECOND);
        assertThat(limits.admit("t")).containsEntry("x-ratelimit-remaining-tokens", "1");
        String special = ApiKeys.tenantOf("sk-special");
        assertThat(limits.admit(special)).containsEntry("x-ratelimit-limit-requests", "1");
        assertThatThrownBy(() -> limits.admit(special)).isInstanceOf(ApiException.class);
        assertThat(new RateLimits(RateLimits.Config.NONE, ApiKeys::tenantOf, now::get).any()).isFalse();
        assertThatThrownBy(() -> new RateLimits.Limit(-1, 0)).hasMessageContaining("0 (none) or more");
    }

    @Test
    void aServer_limitsEachKey_withOpenAisHeadersAnd429() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
        ServerConfig config = ServerConfig.defaults().withPort(0).withApiKeys(List.of("sk-one", "sk-two"))
                .withRateLimits(new RateLimits.Config(new RateLimits.Limit(0, 20), Map.of("sk-one", new RateLimits.Limit(1, 0))));
        try (CorralServer server = CorralServer.start(config, List.of(engine))) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> first = chat(http, server, "sk-one");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).hasValue("1");
            assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
            HttpResponse<String> second = chat(http, server, "sk-one");
            assertThat(second.statusCode()).isEqualTo(429);
            assertThat(second.headers().firstValue("retry-after")).hasValue("60");
            JsonNode error = new ObjectMapper().readTree(second.body()).get("error");
            assertThat(error.get("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(error.get("type").asText()).isEqualTo("requests");
            // the other key has the default: 20 tokens a minute; a 5-token prompt and 16 generated use them up
            HttpResponse<String> other = chat(http, server, "sk-two");
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(other.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("20");
            HttpResponse<String> over = chat(http, server, "sk-two");
            assertThat(over.statusCode()).isEqualTo(429);
            assertThat(new ObjectMapper().readTree(over.body()).at("/error/type").asText()).isEqualTo("tokens");
            // health answers whatever the limits
            assertThat(http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }

    private static HttpResponse<String> chat(HttpClient http, CorralServer server, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"max_tokens\":16,\"temperature\":0,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.http.ApiException;
import io.corral.server.http.ApiKeys;
import io.corral.server.http.Budgets;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Budgets per key: requests and tokens a period, kept in the state store, shared by the nodes that share it. */
class BudgetsTest {

    final TestClock clock = new TestClock(Instant.parse("2026-11-28T10:00:00Z"));
    final String gold = ApiKeys.tenantOf("sk-gold");
    final String plain = ApiKeys.tenantOf("sk-plain");
    final Budgets.Config config = new Budgets.Config("day", new Budgets.Limit(0, 100), Map.of("sk-gold", new Budgets.Limit(3, 0)));

    @Test
    void aKeysBudget_isSpentByRequestsOrTokens_andRenewsWithThePeriod() {
        Budgets budgets = new Budgets(config, ApiKeys::tenantOf, null, clock);
        for (int i = 0; i < 3; i++) {
            budgets.admit(gold);
        }
        assertThatThrownBy(() -> budgets.admit(gold)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.getMessage()).contains("3 requests a day").contains("renews at 2026-11-29T00:00:00Z");
        });
        budgets.admit(plain); // the default: 100 tokens, no request count
        budgets.record(plain, 60);
        budgets.admit(plain);
        budgets.record(plain, 50);
        assertThatThrownBy(() -> budgets.admit(plain)).hasMessageContaining("100 tokens a day");
        clock.advance(Duration.ofHours(14)); // the next day, UTC
        budgets.admit(gold);
        budgets.admit(plain);
        assertThat(new Budgets(Budgets.Config.NONE, ApiKeys::tenantOf, null, clock).any()).isFalse();
        assertThatThrownBy(() -> new Budgets.Config("week", new Budgets.Limit(0, 0), Map.of())).hasMessageContaining("day or month");
    }

    @Test
    void whatOneNodeCounted_isSpentForTheOther_andOutlivesARestart() {
        io.corral.spi.MemoryKeyValueStore state = new io.corral.spi.MemoryKeyValueStore(); // one database, two nodes
        Budgets a = new Budgets(config, ApiKeys::tenantOf, state, clock);
        a.admit(gold);
        a.admit(gold);
        a.flush();
        Budgets b = new Budgets(config, ApiKeys::tenantOf, state, clock); // another node, or this one restarted
        b.admit(gold);
        assertThatThrownBy(() -> b.admit(gold)).hasMessageContaining("3 requests a day");
        assertThat(state.prefix("")).extracting(Map.Entry::getKey).allMatch(k -> k.startsWith("budget/2026-11-28/" + gold + "/"));
    }

    @Test
    void aServer_answers429InsufficientQuota_onceAKeysBudgetIsSpent() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
        try (CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of("sk-gold", "sk-plain")))
                .providers(List.of(engine)).budgets(new Budgets.Config("month", new Budgets.Limit(0, 0),
                        Map.of("sk-gold", new Budgets.Limit(1, 0))), null).start()) {
            HttpClient http = HttpClient.newHttpClient();
            assertThat(chat(http, server, "sk-gold").statusCode()).isEqualTo(200);
            HttpResponse<String> spent = chat(http, server, "sk-gold");
            assertThat(spent.statusCode()).isEqualTo(429);
            assertThat(new ObjectMapper().readTree(spent.body()).at("/error/code").asText()).isEqualTo("insufficient_quota");
            assertThat(new ObjectMapper().readTree(spent.body()).at("/error/message").asText()).contains("renews at "
                    + java.time.LocalDate.now(java.time.ZoneOffset.UTC).withDayOfMonth(1).plusMonths(1) + "T00:00:00Z");
            assertThat(chat(http, server, "sk-plain").statusCode()).isEqualTo(200); // no budget of its own, none by default
        }
    }

    private static HttpResponse<String> chat(HttpClient http, CorralServer server, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions")).header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.engines.OnDemand;
import io.corral.server.http.ApiKeys;
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

/** Keys with roles: admin routes need an admin key once the server names some; the API takes either kind. */
class AdminKeysTest {

    static OnDemand nothingOnDemand() {
        return new OnDemand(List::of, n -> Optional.empty(), (n, f) -> null, Duration.ofMinutes(5), 1L << 30, Duration.ZERO,
                System::nanoTime, java.time.Clock.systemUTC());
    }

    static int get(HttpClient http, String url, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void adminRoutes_needAnAdminKey_theApiTakesBoth() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try (OnDemand onDemand = nothingOnDemand(); CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)
                .withApiKeys(List.of("sk-user")).withAdminKeys(List.of("sk-admin")))
                .providers(List.of(ScriptedProvider.chat("p", "m"))).onDemand(onDemand).start()) {
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/admin/models"))
                    .header("Authorization", "Bearer sk-user").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(new ObjectMapper().readTree(refused.body()).at("/error/message").asText())
                    .isEqualTo("GET /v1/admin/models is an admin route: it needs one of the server's admin keys");
            assertThat(get(http, server.url() + "/v1/admin/models", "sk-admin")).isEqualTo(200);
            assertThat(get(http, server.url() + "/v1/models", "sk-user")).isEqualTo(200);
            assertThat(get(http, server.url() + "/v1/models", "sk-admin")).isEqualTo(200);
            assertThat(get(http, server.url() + "/v1/admin/models", "sk-nobody")).isEqualTo(401);
        }
        // one role: with no admin key named, every key may
        try (OnDemand onDemand = nothingOnDemand(); CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)
                .withApiKeys(List.of("sk-user"))).providers(List.of(ScriptedProvider.chat("p", "m"))).onDemand(onDemand).start()) {
            assertThat(get(http, server.url() + "/v1/admin/models", "sk-user")).isEqualTo(200);
        }
    }

    @Test
    void whichRoutesAreAdmin() {
        assertThat(ApiKeys.adminRoute("POST", "/v1/admin/backup")).isTrue();
        assertThat(ApiKeys.adminRoute("POST", "/v1/engines/reload")).isTrue();
        assertThat(ApiKeys.adminRoute("POST", "/api/pull")).isTrue();
        assertThat(ApiKeys.adminRoute("DELETE", "/api/delete")).isTrue();
        assertThat(ApiKeys.adminRoute("POST", "/v1/shields")).isTrue();
        assertThat(ApiKeys.adminRoute("GET", "/v1/shields")).isFalse();
        assertThat(ApiKeys.adminRoute("GET", "/v1/engines")).isFalse();
        assertThat(ApiKeys.adminRoute("POST", "/v1/chat/completions")).isFalse();
        assertThat(ApiKeys.adminRoute("POST", "/v1/safety/run-shield")).isFalse();
    }
}

package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.corral.api.ChatMessage;
import io.corral.spi.SafetyProvider;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.testing.SafetyProviderContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code remote::moderation} against a stand-in for a hosted moderation endpoint (none can be reached from here): a
 * real HTTP server on loopback speaking OpenAI's {@code POST /v1/moderations}, which flags inputs about weapons as
 * violence with a score.
 */
class ModerationShieldTest extends SafetyProviderContract {

    private HttpServer endpoint;
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();

    @Override
    protected SafetyProvider open() {
        try {
            endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        endpoint.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        endpoint.createContext("/v1/moderations", ex -> {
            JsonNode body = WireFormat.JSON.readTree(ex.getRequestBody().readAllBytes());
            requests.add(body);
            ObjectNode answer = WireFormat.JSON.createObjectNode().put("id", "modr-1").put("model", body.path("model").asText() + "-2025");
            ArrayNode results = answer.putArray("results");
            for (JsonNode input : body.path("input")) {
                boolean violent = input.asText().contains("weapon");
                ObjectNode r = results.addObject().put("flagged", violent);
                r.putObject("categories").put("violence", violent).put("hate", false);
                r.putObject("category_scores").put("violence", violent ? 0.93 : 0.01).put("hate", 0.002);
            }
            byte[] bytes = WireFormat.bytes(answer);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(ex.getRequestHeaders().getFirst("Authorization").equals("Bearer sk-test") ? 200 : 401, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        endpoint.start();
        return new ModerationShield("moderation", new ModerationShield.Config(
                "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/v1", "sk-test", null, null, 5));
    }

    @AfterEach
    void stop() {
        endpoint.stop(0);
    }

    @Override
    protected Shield shield() {
        return new Shield("moderation", "moderation", null, Map.of());
    }

    @Override
    protected String unsafe() {
        return "Tell me how to build a weapon.";
    }

    @Test
    void aFlaggedInput_isAViolation_withTheEndpointsCategoriesAndScores() {
        var v = provider.run(shield, List.of(ChatMessage.user(unsafe())), Map.of()).orElseThrow();
        assertThat(v.categories()).containsExactly("violence");
        assertThat(v.metadata()).containsEntry("model", "omni-moderation-latest-2025");
        assertThat(v.metadata().get("category_scores")).isEqualTo(Map.of("violence", 0.93));
        assertThat(requests.getLast().path("model").asText()).isEqualTo("omni-moderation-latest");
        var m = provider.moderate(new Shield("m", "moderation", "text-moderation-stable", Map.of()), List.of("a weapon", "tea"));
        assertThat(m.get(0).scores()).containsEntry("violence", 0.93);
        assertThat(m.get(1).flagged()).isFalse();
        assertThat(requests.getLast().path("model").asText()).isEqualTo("text-moderation-stable");
    }

    @Test
    void anEndpointThatCannotBeReached_blocksByDefault_orLetsThroughWhenConfigured() {
        endpoint.stop(0);
        String gone = "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/v1";
        var closed = new ModerationShield("m", new ModerationShield.Config(gone, null, null, null, 2));
        assertThat(closed.run(shield, List.of(ChatMessage.user("hello")), Map.of()).orElseThrow().categories()).containsExactly("unchecked");
        var open = new ModerationShield("m", new ModerationShield.Config(gone, null, null, "allow", 2));
        assertThat(open.run(shield, List.of(ChatMessage.user("hello")), Map.of())).isEmpty();
        assertThatThrownBy(() -> closed.moderate(shield, List.of("hello"))).isInstanceOf(io.corral.api.UnavailableException.class);
    }

    @Test
    void aConfigWithoutAUrl_isRefused() {
        assertThatThrownBy(() -> new ModerationShield.Config("api.openai.com", null, null, null, null)).hasMessageContaining("url");
    }
}

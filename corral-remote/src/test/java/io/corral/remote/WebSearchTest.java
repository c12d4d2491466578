package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.corral.spi.ToolRuntimeProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The web search tool runtimes against a stand-in for each service (none can be reached from here): a real HTTP
 * server on loopback answering Brave's, Tavily's and SearXNG's search APIs in their own shapes, checking their keys.
 */
class WebSearchTest {

    HttpServer server;
    String base;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/res/v1/web/search", ex -> { // Brave
            boolean ok = "brave-key".equals(ex.getRequestHeaders().getFirst("X-Subscription-Token"))
                    && ex.getRequestURI().getQuery().contains("q=corral java");
            send(ex, ok ? 200 : 401, "{\"web\":{\"results\":[{\"title\":\"Corral\",\"url\":\"https://corral.example/\","
                    + "\"description\":\"A Java runtime for LLMs\"},{\"title\":\"Two\",\"url\":\"https://two.example/\",\"description\":\"2\"}]}}");
        });
        server.createContext("/search", ex -> {
            if (ex.getRequestMethod().equals("POST")) { // Tavily
                JsonNode body = WireFormat.JSON.readTree(ex.getRequestBody().readAllBytes());
                boolean ok = "Bearer tvly-key".equals(ex.getRequestHeaders().getFirst("Authorization"))
                        && body.path("query").asText().equals("corral java");
                send(ex, ok ? 200 : 401, "{\"query\":\"corral java\",\"results\":[{\"title\":\"Corral\",\"url\":\"https://corral.example/\","
                        + "\"content\":\"A Java runtime for LLMs\",\"score\":0.9}]}");
            } else { // SearXNG
                boolean ok = ex.getRequestURI().getQuery().contains("format=json");
                send(ex, ok ? 200 : 400, "{\"query\":\"corral java\",\"results\":[{\"title\":\"Corral\",\"url\":\"https://corral.example/\","
                        + "\"content\":\"A Java runtime for LLMs\",\"engine\":\"duckduckgo\"}]}");
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    static void send(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void eachService_isAskedInItsOwnShape_andItsHitsComeBackAlike() {
        for (String[] kind : List.of(new String[]{"remote::brave-search", "brave-key"}, new String[]{"remote::tavily-search", "tvly-key"},
                new String[]{"remote::searxng", null})) {
            WebSearch search = new WebSearch(kind[0], new WebSearch.Config(kind[1], base, 1));
            assertThat(search.tools(null)).extracting(ToolRuntimeProvider.ToolDef::name).containsExactly("web_search");
            ToolRuntimeProvider.Result r = search.invoke("web_search", Map.of("query", "corral java"));
            assertThat(r.errorMessage()).as(kind[0]).isNull();
            assertThat(r.metadata().get("results")).as(kind[0]).isEqualTo(List.of(Map.of("title", "Corral",
                    "url", "https://corral.example/", "content", "A Java runtime for LLMs")));
            assertThat(r.content()).contains("https://corral.example/");
        }
    }

    @Test
    void aWrongKey_orNoQuery_isTheToolsError_andAMissingKeyIsRefused() {
        WebSearch wrong = new WebSearch("remote::brave-search", new WebSearch.Config("nope", base, null));
        assertThat(wrong.invoke("web_search", Map.of("query", "corral java")).errorMessage()).contains("401");
        assertThat(wrong.invoke("web_search", Map.of()).errorMessage()).contains("query");
        assertThatThrownBy(() -> new WebSearch("remote::tavily-search", new WebSearch.Config(null, base, null))).hasMessageContaining("api_key");
        assertThatThrownBy(() -> new WebSearch("remote::searxng", new WebSearch.Config(null, null, null))).hasMessageContaining("url");
    }
}

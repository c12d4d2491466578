package io.corral.agents;

import com.sun.net.httpserver.HttpServer;
import io.corral.api.ChatRequest;
import io.corral.api.InvalidRequestException;
import io.corral.api.UrlPolicy;
import io.corral.remote.WebSearch;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code web_search} tool through the Brave tool runtime, against a loopback stand-in speaking Brave's API. */
class WebSearchToolTest {

    @Test
    @SuppressWarnings("unchecked")
    void aWebSearch_runsInTheLoop_andTheAnswerCitesItsPages() throws Exception {
        HttpServer brave = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        brave.createContext("/res/v1/web/search", ex -> {
            byte[] b = ("{\"web\":{\"results\":[{\"title\":\"Corral\",\"url\":\"https://corral.example/\","
                    + "\"description\":\"A Java runtime for LLMs\"}]}}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders("k".equals(ex.getRequestHeaders().getFirst("X-Subscription-Token")) ? 200 : 401, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        brave.start();
        try {
            WebSearch search = new WebSearch("remote::brave-search", new WebSearch.Config("k", "http://127.0.0.1:" + brave.getAddress().getPort(), 3));
            ScriptedProvider model = ScriptedProvider.chat("p", "m").then(call("web_search", "{\"query\":\"corral java\"}"),
                    answer("Corral is a Java runtime."));
            ResponsesService s = new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC(), UrlPolicy.PUBLIC_ONLY, search);
            Map<String, Object> r = s.create("t", Map.of("model", "m", "input", "What is Corral?", "tools", List.of(Map.of("type", "web_search"))), null);
            List<Map<String, Object>> out = (List<Map<String, Object>>) r.get("output");
            assertThat(out).extracting(i -> i.get("type")).containsExactly("web_search_call", "message");
            assertThat(out.get(0).get("action")).isEqualTo(Map.of("type", "search", "query", "corral java"));
            List<Map<String, Object>> content = (List<Map<String, Object>>) out.get(1).get("content");
            List<Map<String, Object>> annotations = (List<Map<String, Object>>) content.getFirst().get("annotations");
            assertThat(annotations).singleElement().satisfies(a -> assertThat(a).containsEntry("type", "url_citation")
                    .containsEntry("url", "https://corral.example/"));
            assertThat(((ChatRequest) model.requests().getLast()).messages().getLast().text()).contains("https://corral.example/");
            ResponsesService none = new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC());
            assertThatThrownBy(() -> none.create("t", Map.of("model", "m", "input", "x", "tools", List.of(Map.of("type", "web_search"))), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("tool_runtime");
        } finally {
            brave.stop(0);
        }
    }
}

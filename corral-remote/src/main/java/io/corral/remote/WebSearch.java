package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.UnavailableException;
import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.ToolRuntimeProvider;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code tool_runtime: remote::brave-search}, {@code remote::tavily-search} (Llama Stack's names) and
 * {@code remote::searxng} (a SearXNG instance's JSON API): one tool, {@value #TOOL}, over the one HTTP client. Its
 * result is the hits as JSON ({@code title}, {@code url}, {@code content}), also in the result's metadata.
 */
public final class WebSearch implements ToolRuntimeProvider {

    public static final String TOOL = "web_search";

    /**
     * @param apiKey     the service's key (Brave's X-Subscription-Token, Tavily's bearer token; none for SearXNG)
     * @param url        the service's base URL (default the public one; required for SearXNG)
     * @param maxResults hits per search (default 5)
     */
    public record Config(String apiKey, String url, Integer maxResults) {
        public Config {
            maxResults = maxResults == null ? 5 : maxResults;
            if (maxResults < 1 || maxResults > 20) {
                throw new InvalidRequestException("max_results", "max_results must be between 1 and 20");
            }
        }
    }

    /** Makes the three kinds from the distribution config. */
    public static final class Factory extends ProviderFactory.Base<Config, ToolRuntimeProvider> {
        private static final List<String> TYPES = List.of("remote::brave-search", "remote::tavily-search", "remote::searxng");

        public Factory() {
            super(Api.TOOL_RUNTIME, "remote::brave-search", Config.class);
        }

        @Override
        public boolean supports(String type) {
            return TYPES.contains(type);
        }

        @Override
        public List<String> types() {
            return TYPES;
        }

        @Override
        public ToolRuntimeProvider create(String id, String type, Config config, Context context) {
            return new WebSearch(type, config);
        }
    }

    private final String type;
    private final Config config;
    private final String base;

    public WebSearch(String type, Config config) {
        this.type = type;
        this.config = config;
        String url = config.url() != null && !config.url().isBlank() ? config.url() : switch (type) {
            case "remote::brave-search" -> "https://api.search.brave.com";
            case "remote::tavily-search" -> "https://api.tavily.com";
            default -> throw new InvalidRequestException("url", type + " needs the url of its instance");
        };
        this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        if (!type.equals("remote::searxng") && (config.apiKey() == null || config.apiKey().isBlank())) {
            throw new InvalidRequestException("api_key", type + " needs an api_key");
        }
    }

    @Override
    public List<ToolDef> tools(String toolGroup) {
        return List.of(new ToolDef(TOOL, "Search the web; gives the top pages' titles, URLs and text.",
                "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"}},\"required\":[\"query\"]}"));
    }

    @Override
    public Result invoke(String toolName, Map<String, Object> arguments) {
        if (!TOOL.equals(toolName)) {
            return new Result(null, "no tool named " + toolName, Map.of());
        }
        Object q = arguments.get("query");
        if (!(q instanceof String query) || query.isBlank()) {
            return new Result(null, "query is required", Map.of());
        }
        JsonNode answer;
        try {
            answer = send(query);
        } catch (UnavailableException e) {
            return new Result(null, e.getMessage(), Map.of());
        }
        List<Map<String, Object>> hits = new ArrayList<>();
        JsonNode list = switch (type) {
            case "remote::brave-search" -> answer.path("web").path("results");
            default -> answer.path("results");
        };
        for (JsonNode h : list) {
            if (hits.size() == config.maxResults()) {
                break;
            }
            String content = h.hasNonNull("content") ? h.get("content").asText() : h.path("description").asText("");
            hits.add(Map.of("title", h.path("title").asText(""), "url", h.path("url").asText(""), "content", content));
        }
        ArrayNode json = WireFormat.JSON.valueToTree(hits);
        return new Result(json.toString(), null, Map.of("results", hits));
    }

    private JsonNode send(String query) {
        String q = URLEncoder.encode(query, StandardCharsets.UTF_8).replace("+", "%20");
        Transport.Request request = switch (type) {
            case "remote::brave-search" -> new Transport.Request("GET", URI.create(base + "/res/v1/web/search?q=" + q + "&count="
                    + config.maxResults()), null, null, Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30));
            case "remote::tavily-search" -> {
                ObjectNode body = WireFormat.JSON.createObjectNode().put("query", query).put("max_results", config.maxResults());
                yield new Transport.Request("POST", URI.create(base + "/search"), "Bearer " + config.apiKey(), WireFormat.bytes(body),
                        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30));
            }
            default -> new Transport.Request("GET", URI.create(base + "/search?format=json&q=" + q), null, null,
                    Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30));
        };
        try {
            Transport.Response r = Transport.of(base).send(type.equals("remote::brave-search") ? withToken(request) : request);
            try (InputStream in = r.body()) {
                byte[] bytes = in.readAllBytes();
                if (r.status() / 100 != 2) {
                    throw new UnavailableException(type + " answered " + r.status());
                }
                return WireFormat.JSON.readTree(bytes);
            }
        } catch (IOException e) {
            throw new UnavailableException(type + " cannot be reached: " + e.getMessage(), e);
        }
    }

    /** Brave takes its key in X-Subscription-Token: sent as the request's only authorization-like header. */
    private Transport.Request withToken(Transport.Request r) {
        return new Transport.Request(r.method(), r.uri(), null, r.body(), r.connectTimeout(), r.responseTimeout(), r.idleTimeout(),
                Map.of("X-Subscription-Token", config.apiKey()));
    }

    @Override
    public void close() {
    }
}

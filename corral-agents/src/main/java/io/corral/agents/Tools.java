package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.UrlPolicy;
import io.corral.spi.Filter;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorStores;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A response's tools: {@code function} tools (the client runs them: the response ends with their calls) and
 * {@code file_search} over vector stores (run here, as the model's {@value #FILE_SEARCH} function), with the
 * request's {@code tool_choice}.
 */
record Tools(List<ToolSpec> specs, Map<String, ObjectNode> functions, FileSearch fileSearch, List<Mcp.Server> mcp, boolean webSearch,
             ToolChoice choice) {

    static final String FILE_SEARCH = "file_search";
    static final String WEB_SEARCH = "web_search";

    private static final String FILE_SEARCH_PARAMETERS = """
            {"type":"object","properties":{"query":{"type":"string","description":"what to look for"}},"required":["query"]}""";

    /** A {@code file_search} tool: the stores, a filter, how many results, how they are ranked. */
    record FileSearch(List<String> storeIds, Filter filter, int maxResults, Ranker ranker, double scoreThreshold) {
    }

    static Tools of(JsonNode tools, JsonNode choice, UrlPolicy policy, boolean webSearchServed) {
        boolean webSearch = false;
        List<ToolSpec> specs = new ArrayList<>();
        List<Mcp.Server> mcp = new ArrayList<>();
        Map<String, ObjectNode> functions = new LinkedHashMap<>();
        FileSearch fileSearch = null;
        if (tools != null && !tools.isNull()) {
            if (!tools.isArray()) {
                throw new InvalidRequestException("tools", "tools must be a list");
            }
            for (int i = 0; i < tools.size(); i++) {
                JsonNode t = tools.get(i);
                String where = "tools[" + i + "]";
                switch (t.path("type").asText("")) {
                    case "function" -> {
                        String name = t.path("name").asText("");
                        JsonNode params = t.get("parameters");
                        specs.add(new ToolSpec(name, t.path("description").asText(null), params == null || params.isNull() ? null : Json.text(params)));
                        functions.put(name, (ObjectNode) t);
                    }
                    case "file_search" -> {
                        JsonNode ids = t.get("vector_store_ids");
                        if (ids == null || !ids.isArray() || ids.isEmpty()) {
                            throw new InvalidRequestException("tools", where + ".vector_store_ids must name at least one vector store");
                        }
                        List<String> storeIds = new ArrayList<>();
                        ids.forEach(id -> storeIds.add(id.asText()));
                        Filter filter = t.hasNonNull("filters") ? Filter.parse(Json.MAPPER.convertValue(t.get("filters"), Object.class),
                                where + ".filters") : null;
                        int max = t.path("max_num_results").asInt(10);
                        JsonNode ro = t.path("ranking_options");
                        Ranker ranker = Ranker.DEFAULT;
                        JsonNode r = ro.get("ranker");
                        if (r != null && r.isTextual() && r.asText().equals("weighted")) {
                            ranker = Ranker.weighted(ro.path("alpha").asDouble(0.5));
                        }
                        fileSearch = new FileSearch(storeIds, filter, max, ranker, ro.path("score_threshold").asDouble(0));
                        specs.add(new ToolSpec(FILE_SEARCH, "Search the knowledge in the attached vector stores for passages about a query.",
                                FILE_SEARCH_PARAMETERS));
                    }
                    case "mcp" -> mcp.add(Mcp.parse(t, where, policy));
                    case "web_search", "web_search_preview" -> {
                        if (!webSearchServed) {
                            throw new InvalidRequestException("tools", where + ": web search needs a tool_runtime web search provider "
                                    + "(remote::brave-search, remote::tavily-search or remote::searxng) in the config");
                        }
                        webSearch = true;
                        specs.add(new ToolSpec(WEB_SEARCH, "Search the web; gives the top pages' titles, URLs and text.",
                                FILE_SEARCH_PARAMETERS));
                    }
                    default -> throw new InvalidRequestException("tools", where + ".type must be function, file_search or mcp");
                }
            }
        }
        return new Tools(specs, functions, fileSearch, List.copyOf(mcp), webSearch, choice(choice, functions, fileSearch));
    }

    private static ToolChoice choice(JsonNode c, Map<String, ObjectNode> functions, FileSearch fileSearch) {
        if (c == null || c.isNull()) {
            return ToolChoice.AUTO;
        }
        if (c.isTextual()) {
            ToolChoice word = ToolChoice.ofWord(c.asText());
            if (word == null) {
                throw new InvalidRequestException("tool_choice", "tool_choice must be auto, none, required or a tool");
            }
            return word;
        }
        String type = c.path("type").asText("");
        if (type.equals("function") && functions.containsKey(c.path("name").asText())) {
            return new ToolChoice.Named(c.path("name").asText());
        }
        if (type.equals("file_search") && fileSearch != null) {
            return new ToolChoice.Named(FILE_SEARCH);
        }
        throw new InvalidRequestException("tool_choice", "tool_choice names a tool the request does not give");
    }

    /** Runs a search of {@code query}; the results as a {@code file_search_call} item's. */
    ArrayNode search(VectorStores stores, String tenant, String query) {
        ArrayNode results = Json.array();
        if (stores == null) {
            throw new InvalidRequestException("tools", "file_search needs vector stores, and this server has none");
        }
        List<VectorStores.Result> all = new ArrayList<>();
        for (String store : fileSearch.storeIds()) {
            all.addAll(stores.search(tenant, store, new VectorStores.Search(List.of(query), fileSearch.filter(),
                    Math.min(50, Math.max(1, fileSearch.maxResults())), VectorIoProvider.Mode.HYBRID, fileSearch.ranker(),
                    fileSearch.scoreThreshold())));
        }
        all.sort((a, b) -> Double.compare(b.score(), a.score()));
        for (VectorStores.Result r : all.subList(0, Math.min(all.size(), fileSearch.maxResults()))) {
            ObjectNode o = results.addObject().put("file_id", r.fileId()).put("filename", r.filename()).put("score", r.score())
                    .put("text", r.text());
            o.set("attributes", Json.tree(r.attributes()));
        }
        return results;
    }

    /** What the model reads of a search's results: each passage with its file. */
    static String results(JsonNode results) {
        if (results == null || !results.isArray() || results.isEmpty()) {
            return "No passages were found.";
        }
        StringBuilder b = new StringBuilder();
        int n = 1;
        for (JsonNode r : results) {
            b.append('[').append(n++).append("] ").append(r.path("filename").asText()).append(":\n")
                    .append(r.path("text").asText()).append("\n\n");
        }
        return b.toString().strip();
    }
}

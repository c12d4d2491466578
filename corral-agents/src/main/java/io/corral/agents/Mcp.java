package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.UnavailableException;
import io.corral.api.UrlPolicy;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request's {@code mcp} tools: remote MCP servers over streamable HTTP (the official MCP Java SDK), each with its
 * label, URL, headers (and {@code authorization}, sent as a bearer token), the tools it may offer
 * ({@code allowed_tools}) and which calls need the user's approval ({@code require_approval}: {@code always}, the
 * default as OpenAI's; {@code never}; or {@code {"never": {"tool_names": [...]}}}).
 */
final class Mcp {

    /** One server as a request names it. */
    record Server(String label, URI url, Map<String, String> headers, Set<String> allowed, String approval, Set<String> neverAsk) {

        boolean needsApproval(String tool) {
            return switch (approval) {
                case "never" -> false;
                case "some" -> !neverAsk.contains(tool);
                default -> true;
            };
        }
    }

    /** A tool a server offers, with its JSON-Schema input. */
    record Tool(Server server, String name, String description, Map<String, Object> inputSchema) {
    }

    private Mcp() {
    }

    static Server parse(JsonNode t, String where, UrlPolicy policy) {
        String label = t.path("server_label").asText("");
        if (!label.matches("[a-zA-Z0-9_-]{1,64}")) {
            throw new InvalidRequestException("tools", where + ".server_label must be 1-64 letters, digits, _ or -");
        }
        if (!t.path("server_url").isTextual()) {
            throw new InvalidRequestException("tools", where + ".server_url is required (Corral reaches MCP servers over streamable HTTP)");
        }
        URI url = policy.check(t.get("server_url").asText(), "tools");
        Map<String, String> headers = new LinkedHashMap<>();
        t.path("headers").properties().forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
        if (t.hasNonNull("authorization")) {
            headers.put("Authorization", "Bearer " + t.get("authorization").asText());
        }
        Set<String> allowed = null;
        JsonNode a = t.get("allowed_tools");
        if (a != null && !a.isNull()) {
            allowed = new LinkedHashSet<>();
            for (JsonNode n : a.isArray() ? a : a.path("tool_names")) {
                allowed.add(n.asText());
            }
        }
        JsonNode r = t.get("require_approval");
        String approval = "always";
        Set<String> never = Set.of();
        if (r != null && r.isTextual()) {
            approval = switch (r.asText()) {
                case "always", "never" -> r.asText();
                default -> throw new InvalidRequestException("tools", where + ".require_approval must be always, never or {never: {tool_names}}");
            };
        } else if (r != null && r.isObject()) {
            approval = "some";
            Set<String> names = new LinkedHashSet<>();
            r.path("never").path("tool_names").forEach(n -> names.add(n.asText()));
            never = names;
        }
        return new Server(label, url, Map.copyOf(headers), allowed == null ? null : Set.copyOf(allowed), approval, Set.copyOf(never));
    }

    /** A connection to one server, for one response. */
    static final class Connection implements AutoCloseable {
        private final McpSyncClient client;

        Connection(Server s) {
            String base = s.url().getScheme() + "://" + s.url().getRawAuthority();
            String endpoint = (s.url().getRawPath() == null || s.url().getRawPath().isEmpty() ? "/" : s.url().getRawPath())
                    + (s.url().getRawQuery() == null ? "" : "?" + s.url().getRawQuery());
            HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(base).endpoint(endpoint)
                    .connectTimeout(Duration.ofSeconds(10))
                    .httpRequestCustomizer((b, method, uri, body, context) -> s.headers().forEach(b::header))
                    .build();
            client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(60)).initializationTimeout(Duration.ofSeconds(20))
                    .clientInfo(new McpSchema.Implementation("corral", "0.1.0")).build();
            try {
                client.initialize();
            } catch (RuntimeException e) {
                client.close();
                throw new UnavailableException("MCP server " + s.label() + " (" + s.url() + ") cannot be reached: " + e.getMessage(), e);
            }
        }

        List<Tool> tools(Server s) {
            List<Tool> out = new ArrayList<>();
            for (McpSchema.Tool t : client.listTools().tools()) {
                if (s.allowed() == null || s.allowed().contains(t.name())) {
                    out.add(new Tool(s, t.name(), t.description(), t.inputSchema() == null ? Map.of("type", "object") : t.inputSchema()));
                }
            }
            return out;
        }

        /** Calls a tool; its text content, and whether the server calls it an error. */
        Result call(String name, String arguments) {
            Map<String, Object> args;
            try {
                args = arguments == null || arguments.isBlank() ? Map.of() : Json.MAPPER.readValue(arguments, Json.MAPPER.getTypeFactory()
                        .constructMapType(LinkedHashMap.class, String.class, Object.class));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return new Result("the arguments are not a JSON object: " + e.getOriginalMessage(), true);
            }
            McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest(name, args));
            StringBuilder b = new StringBuilder();
            for (McpSchema.Content c : r.content()) {
                if (c instanceof McpSchema.TextContent t) {
                    b.append(b.isEmpty() ? "" : "\n").append(t.text());
                }
            }
            return new Result(b.toString(), Boolean.TRUE.equals(r.isError()));
        }

        @Override
        public void close() {
            client.closeGracefully();
        }
    }

    record Result(String text, boolean error) {
    }

    /** A {@code mcp_list_tools} item. */
    static ObjectNode listItem(Server s, List<Tool> tools, String error) {
        ObjectNode item = Json.object().put("type", "mcp_list_tools").put("id", Items.id("mcpl_")).put("server_label", s.label());
        var arr = item.putArray("tools");
        for (Tool t : tools) {
            ObjectNode o = arr.addObject().put("name", t.name()).put("description", t.description());
            o.set("input_schema", Json.tree(t.inputSchema()));
            o.putNull("annotations");
        }
        if (error != null) {
            item.put("error", error);
        }
        return item;
    }
}

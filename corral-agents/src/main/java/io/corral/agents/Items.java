package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ContentPart;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.api.ToolCall;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

/**
 * OpenAI's items (messages, function calls and their outputs, file searches): read from a request, given ids, and
 * turned into the chat messages the model reads.
 */
final class Items {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Items() {
    }

    /** An id with {@code prefix}, time-ordered (so keys list in creation order), then random. */
    static String id(String prefix) {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        return prefix + String.format("%012x", System.currentTimeMillis()) + HexFormat.of().formatHex(r);
    }

    /** A request's {@code input}: a string (one user message) or a list of items, each read and given an id. */
    static List<ObjectNode> input(JsonNode input, String where) {
        List<ObjectNode> items = new ArrayList<>();
        if (input == null || input.isNull()) {
            throw new InvalidRequestException(where, where + " is required: text or a list of items");
        }
        if (input.isTextual()) {
            items.add(message("user", input.asText(), "input_text"));
            return items;
        }
        if (!input.isArray()) {
            throw new InvalidRequestException(where, where + " must be text or a list of items");
        }
        for (int i = 0; i < input.size(); i++) {
            items.add(item(input.get(i), where + "[" + i + "]"));
        }
        return items;
    }

    /** One item as stored: its type, an id, and its content as a list of parts. */
    static ObjectNode item(JsonNode in, String where) {
        if (!in.isObject()) {
            throw new InvalidRequestException(where, where + " must be an object");
        }
        String type = in.path("type").asText("message");
        ObjectNode o = ((ObjectNode) in).deepCopy();
        switch (type) {
            case "message" -> {
                String role = in.path("role").asText("");
                if (!List.of("user", "system", "developer", "assistant").contains(role)) {
                    throw new InvalidRequestException(where, where + ".role must be user, system, developer or assistant");
                }
                JsonNode content = in.get("content");
                ArrayNode parts = Json.array();
                String textType = role.equals("assistant") ? "output_text" : "input_text";
                if (content != null && content.isTextual()) {
                    parts.addObject().put("type", textType).put("text", content.asText());
                } else if (content != null && content.isArray()) {
                    for (JsonNode p : content) {
                        String pt = p.path("type").asText("");
                        if (!List.of("input_text", "output_text", "input_image", "refusal").contains(pt)) {
                            throw new InvalidRequestException(where, where + ".content parts are input_text, output_text, "
                                    + "input_image or refusal; was '" + pt + "'");
                        }
                        if ((pt.equals("input_text") || pt.equals("output_text")) && !p.path("text").isTextual()) {
                            throw new InvalidRequestException(where, where + ".content: an " + pt + " part has its text");
                        }
                        if (pt.equals("input_image") && !p.path("image_url").isTextual() && !p.path("file_id").isTextual()) {
                            throw new InvalidRequestException(where, where + ".content: an input_image has an image_url or a file_id");
                        }
                        parts.add(p);
                    }
                } else {
                    throw new InvalidRequestException(where, where + ".content must be text or a list of parts");
                }
                o.put("type", "message");
                o.set("content", parts);
                o.put("status", "completed");
                if (!o.hasNonNull("id")) {
                    o.put("id", id("msg_"));
                }
            }
            case "function_call_output" -> {
                if (!in.path("call_id").isTextual() || in.get("output") == null) {
                    throw new InvalidRequestException(where, where + " needs call_id and output");
                }
                if (!in.get("output").isTextual()) {
                    o.put("output", Json.text(in.get("output")));
                }
                if (!o.hasNonNull("id")) {
                    o.put("id", id("fco_"));
                }
            }
            case "function_call" -> {
                if (!in.path("call_id").isTextual() || !in.path("name").isTextual()) {
                    throw new InvalidRequestException(where, where + " needs call_id, name and arguments");
                }
                if (!o.hasNonNull("id")) {
                    o.put("id", id("fc_"));
                }
                o.put("status", "completed");
            }
            case "file_search_call", "web_search_call", "mcp_call", "mcp_list_tools", "mcp_approval_request" -> {
                if (!o.hasNonNull("id")) {
                    o.put("id", id(type.equals("file_search_call") ? "fs_" : "mcp_"));
                }
            }
            case "mcp_approval_response" -> {
                if (!in.path("approval_request_id").isTextual() || !in.path("approve").isBoolean()) {
                    throw new InvalidRequestException(where, where + " needs approval_request_id and approve (true or false)");
                }
                if (!o.hasNonNull("id")) {
                    o.put("id", id("mcpa_"));
                }
            }
            default -> throw new InvalidRequestException(where, where + ".type '" + type + "' is not supported here (message, "
                    + "function_call, function_call_output, file_search_call, mcp_call, mcp_list_tools, mcp_approval_request, mcp_approval_response)");
        }
        return o;
    }

    static ObjectNode message(String role, String text, String partType) {
        ObjectNode o = Json.object().put("type", "message").put("id", id("msg_")).put("status", "completed").put("role", role);
        o.putArray("content").addObject().put("type", partType).put("text", text);
        return o;
    }

    /**
     * Items as the chat messages a model reads: tool calls on assistant messages, their outputs as tool messages;
     * {@code fileImage} gives the uploaded image an {@code input_image} names by {@code file_id}.
     */
    static List<ChatMessage> chat(List<? extends JsonNode> items, Function<String, ContentPart> fileImage) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode i : items) {
            switch (i.path("type").asText("message")) {
                case "message" -> {
                    Role role = switch (i.path("role").asText()) {
                        case "system", "developer" -> Role.SYSTEM;
                        case "assistant" -> Role.ASSISTANT;
                        default -> Role.USER;
                    };
                    List<ContentPart> parts = new ArrayList<>();
                    for (JsonNode p : i.path("content")) {
                        switch (p.path("type").asText()) {
                            case "input_image" -> parts.add(p.hasNonNull("image_url") ? ContentPart.image(p.get("image_url").asText())
                                    : fileImage.apply(p.path("file_id").asText()));
                            case "refusal" -> parts.add(ContentPart.text(p.path("refusal").asText()));
                            default -> parts.add(ContentPart.text(p.path("text").asText()));
                        }
                    }
                    out.add(new ChatMessage(role, parts, List.of(), null));
                }
                case "function_call" -> call(out, new ToolCall(i.path("call_id").asText(), i.path("name").asText(),
                        i.path("arguments").asText("{}")));
                case "function_call_output" -> out.add(ChatMessage.tool(i.path("call_id").asText(), i.path("output").asText()));
                case "file_search_call" -> {
                    String callId = i.path("id").asText();
                    String query = i.path("queries").path(0).asText("");
                    call(out, new ToolCall(callId, Tools.FILE_SEARCH, Json.text(Json.object().put("query", query))));
                    out.add(ChatMessage.tool(callId, Tools.results(i.path("results"))));
                }
                case "web_search_call" -> {
                    String callId = i.path("id").asText();
                    call(out, new ToolCall(callId, Tools.WEB_SEARCH, Json.text(Json.object().put("query", i.path("action").path("query").asText("")))));
                    out.add(ChatMessage.tool(callId, i.path("results").isMissingNode() ? "" : Json.text(i.get("results"))));
                }
                case "mcp_call" -> {
                    String callId = i.path("id").asText();
                    call(out, new ToolCall(callId, i.path("name").asText(), i.path("arguments").asText("{}")));
                    out.add(ChatMessage.tool(callId, i.hasNonNull("error") ? "error: " + i.get("error").asText() : i.path("output").asText("")));
                }
                default -> {
                    // tool lists, pending approval requests and their answers carry nothing a model reads
                }
            }
        }
        return out;
    }

    /** A tool call joins the assistant message just before it, when that one made calls too. */
    private static void call(List<ChatMessage> out, ToolCall call) {
        ChatMessage last = out.isEmpty() ? null : out.getLast();
        if (last != null && last.role() == Role.ASSISTANT && !last.toolCalls().isEmpty()) {
            List<ToolCall> calls = new ArrayList<>(last.toolCalls());
            calls.add(call);
            out.set(out.size() - 1, new ChatMessage(Role.ASSISTANT, last.content(), calls, null));
        } else {
            out.add(new ChatMessage(Role.ASSISTANT, List.of(), List.of(call), null));
        }
    }
}

package io.corral.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.TokenStream;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * Forced tool calls ({@code tool_choice} required or named): the answer is constrained by grammar to
 * {@code {"name": <one of the tools>, "arguments": <that tool's JSON Schema>}} and returned as a
 * {@link ToolCall} with finish reason {@code tool_calls}.
 */
final class ToolCalls {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ToolCalls() {
    }

    /** The JSON Schema of the call the request forces. */
    static String schema(ChatRequest request) {
        List<ToolSpec> allowed = request.toolChoice() instanceof ToolChoice.Named n
                ? request.tools().stream().filter(t -> t.name().equals(n.name())).toList()
                : request.tools();
        ArrayNode alternatives = JSON.createArrayNode();
        for (ToolSpec t : allowed) {
            ObjectNode call = alternatives.addObject().put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", t.name());
            try {
                props.set("arguments", JSON.readTree(t.parameters()));
            } catch (IOException e) {
                throw new io.corral.api.InvalidRequestException("tools", "parameters of tool " + t.name() + " are not valid JSON");
            }
            call.putArray("required").add("name").add("arguments");
        }
        return (alternatives.size() == 1 ? alternatives.get(0) : JSON.createObjectNode().set("anyOf", alternatives)).toString();
    }

    /** Wraps a generation of a forced call: no text pieces, the call in the result. */
    static TokenStream stream(TokenStream generation) {
        return new TokenStream() {
            @Override
            public boolean hasNext() {
                while (generation.hasNext()) {
                    generation.next();
                }
                return false;
            }

            @Override
            public String next() {
                throw new java.util.NoSuchElementException("a tool call streams no text");
            }

            @Override
            public void cancel() {
                generation.cancel();
            }

            @Override
            public ChatResult result() {
                ChatResult r = generation.result();
                if (r.finishReason() != FinishReason.STOP) {
                    return r; // cut short (max_tokens, cancelled): no complete call to report
                }
                try {
                    JsonNode call = JSON.readTree(r.text());
                    ToolCall tc = new ToolCall("call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                            call.get("name").asText(), call.get("arguments").toString());
                    return new ChatResult("", List.of(tc), FinishReason.TOOL_CALLS, r.usage(), r.metrics(), r.logprobs());
                } catch (IOException | NullPointerException e) {
                    return r;
                }
            }

            @Override
            public void close() {
                generation.close();
            }
        };
    }
}

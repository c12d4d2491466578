package io.corral.remote;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.CompletionRequest;
import io.corral.api.ContentPart;
import io.corral.api.ResponseFormat;
import io.corral.api.SamplingParams;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;

/** Corral requests as OpenAI wire JSON (streamed with usage; {@link #whole} turns streaming off). */
final class WireFormat {

    static final ObjectMapper JSON = new ObjectMapper();

    private WireFormat() {
    }

    static byte[] bytes(com.fasterxml.jackson.databind.JsonNode body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static ObjectNode chat(String upstreamModel, ChatRequest r) {
        ObjectNode o = common(upstreamModel, r.sampling(), r.format());
        ArrayNode messages = o.putArray("messages");
        for (ChatMessage m : r.messages()) {
            ObjectNode msg = messages.addObject().put("role", m.role().wireName());
            if (m.content().size() == 1 && m.content().getFirst() instanceof ContentPart.Text t) {
                msg.put("content", t.text());
            } else if (m.content().isEmpty()) {
                msg.putNull("content");
            } else {
                ArrayNode parts = msg.putArray("content");
                for (ContentPart p : m.content()) {
                    switch (p) {
                        case ContentPart.Text t -> parts.addObject().put("type", "text").put("text", t.text());
                        case ContentPart.Image i -> parts.addObject().put("type", "image_url")
                                .putObject("image_url").put("url", i.url());
                    }
                }
            }
            if (!m.toolCalls().isEmpty()) {
                ArrayNode calls = msg.putArray("tool_calls");
                for (ToolCall c : m.toolCalls()) {
                    calls.addObject().put("id", c.id()).put("type", "function")
                            .putObject("function").put("name", c.name()).put("arguments", c.arguments());
                }
            }
            if (m.toolCallId() != null) {
                msg.put("tool_call_id", m.toolCallId());
            }
        }
        if (!r.tools().isEmpty()) {
            ArrayNode tools = o.putArray("tools");
            for (ToolSpec t : r.tools()) {
                ObjectNode fn = tools.addObject().put("type", "function").putObject("function");
                fn.put("name", t.name()).put("description", t.description());
                fn.set("parameters", parse(t.parameters()));
            }
            switch (r.toolChoice()) {
                case ToolChoice.Auto a -> o.put("tool_choice", "auto");
                case ToolChoice.None n -> o.put("tool_choice", "none");
                case ToolChoice.Required q -> o.put("tool_choice", "required");
                case ToolChoice.Named n -> o.putObject("tool_choice").put("type", "function")
                        .putObject("function").put("name", n.name());
            }
        }
        return o;
    }

    static ObjectNode completion(String upstreamModel, CompletionRequest r) {
        ObjectNode o = common(upstreamModel, r.sampling(), r.format());
        if (r.promptTokens() != null) {
            ArrayNode tokens = o.putArray("prompt");
            r.promptTokens().forEach(tokens::add);
        } else {
            o.put("prompt", r.prompt());
        }
        return o;
    }

    private static ObjectNode common(String model, SamplingParams s, ResponseFormat format) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", model);
        o.put("stream", true);
        o.putObject("stream_options").put("include_usage", true);
        // only what the caller set: a field left unset stays unset, so the host's own default holds
        if (s.isSet("temperature")) {
            o.put("temperature", s.temperature());
        }
        if (s.isSet("topP")) {
            o.put("top_p", s.topP());
        }
        if (s.isSet("topK")) {
            o.put("top_k", s.topK()); // llama.cpp, vLLM, Ollama and LM Studio read these; clouds ignore them
        }
        if (s.isSet("minP")) {
            o.put("min_p", s.minP());
        }
        if (s.isSet("repeatPenalty")) {
            o.put("repeat_penalty", s.repeatPenalty());
        }
        if (s.isSet("presencePenalty")) {
            o.put("presence_penalty", s.presencePenalty());
        }
        if (s.isSet("frequencyPenalty")) {
            o.put("frequency_penalty", s.frequencyPenalty());
        }
        if (s.seed() != null) {
            o.put("seed", s.seed());
        }
        if (s.maxTokens() > 0) {
            o.put("max_tokens", s.maxTokens());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = o.putArray("stop");
            s.stop().forEach(stop::add);
        }
        switch (format) {
            case ResponseFormat.Text t -> { }
            case ResponseFormat.JsonObject j -> o.putObject("response_format").put("type", "json_object");
            case ResponseFormat.JsonSchema js -> {
                ObjectNode f = o.putObject("response_format").put("type", "json_schema");
                f.putObject("json_schema").put("name", js.name()).set("schema", parse(js.schema()));
            }
            case ResponseFormat.Grammar g -> o.put("grammar", g.gbnf()); // llama.cpp server's extension
        }
        return o;
    }

    /** The same request for one JSON answer instead of a stream. */
    static ObjectNode whole(ObjectNode streamed) {
        streamed.put("stream", false);
        streamed.remove("stream_options");
        return streamed;
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new io.corral.api.InvalidRequestException("response_format", "not valid JSON: " + e.getMessage());
        }
    }
}

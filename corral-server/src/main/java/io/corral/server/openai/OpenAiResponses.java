package io.corral.server.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.corral.server.http.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.TokenLogprob;
import io.corral.api.ToolCall;
import io.corral.api.Usage;
import io.corral.spi.ModelInfo;

/** Corral results to OpenAI response JSON. */
final class OpenAiResponses {

    private OpenAiResponses() {
    }

    static String finishReason(FinishReason r) {
        return switch (r) {
            case STOP, CANCELLED -> "stop";
            case LENGTH -> "length";
            case TOOL_CALLS -> "tool_calls";
            case CONTENT_FILTER -> "content_filter";
        };
    }

    static ObjectNode model(ModelInfo m, long created) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", created);
        o.put("owned_by", m.provider());
        // Llama Stack's fields, so its clients find what they look for
        o.put("identifier", m.id());
        o.put("provider_id", m.provider());
        o.put("provider_resource_id", m.id());
        o.put("type", "model");
        o.put("model_type", m.type().wire());
        ObjectNode meta = Json.MAPPER.valueToTree(m.metadata());
        if (m.dimension() > 0) {
            meta.put("embedding_dimension", m.dimension());
        }
        o.set("metadata", meta);
        // Corral's own: what the model can do, so a Corral in front of this one routes by it
        m.capabilities().stream().map(c -> c.name().toLowerCase()).sorted().forEach(o.putArray("capabilities")::add);
        return o;
    }

    static ObjectNode usage(Usage u) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("prompt_tokens", u.promptTokens());
        o.put("completion_tokens", u.completionTokens());
        o.put("total_tokens", u.totalTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }

    static ObjectNode chatCompletion(String id, long created, ChatResult r) {
        ObjectNode o = base(id, "chat.completion", created, r.metrics().model());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        if (r.toolCalls().isEmpty()) {
            message.put("content", r.text());
        } else {
            message.putNull("content");
            toolCalls(message.putArray("tool_calls"), r);
        }
        choice.put("finish_reason", finishReason(r.finishReason()));
        choice.set("logprobs", chatLogprobs(r.logprobs()));
        o.set("usage", usage(r.usage()));
        return o;
    }

    /** Chat logprobs: {@code {"content": [{token, logprob, bytes, top_logprobs}]}}, or null when not asked. */
    static com.fasterxml.jackson.databind.JsonNode chatLogprobs(java.util.List<TokenLogprob> logprobs) {
        if (logprobs.isEmpty()) {
            return Json.MAPPER.nullNode();
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprob t : logprobs) {
            ObjectNode e = entry(content.addObject(), t);
            ArrayNode top = e.putArray("top_logprobs");
            t.top().forEach(alt -> entry(top.addObject(), alt));
        }
        return o;
    }

    private static ObjectNode entry(ObjectNode e, TokenLogprob t) {
        e.put("token", t.token());
        e.put("logprob", t.logprob());
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : t.bytes()) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    /** The legacy completions shape: parallel arrays. */
    static com.fasterxml.jackson.databind.JsonNode completionLogprobs(java.util.List<TokenLogprob> logprobs) {
        if (logprobs.isEmpty()) {
            return Json.MAPPER.nullNode();
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode values = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = 0;
        for (TokenLogprob t : logprobs) {
            tokens.add(t.token());
            values.add(t.logprob());
            ObjectNode top = tops.addObject();
            t.top().forEach(alt -> top.put(alt.token(), alt.logprob()));
            offsets.add(offset);
            offset += t.token().length();
        }
        return o;
    }

    private static void toolCalls(ArrayNode calls, ChatResult r) {
        int i = 0;
        for (ToolCall c : r.toolCalls()) {
            ObjectNode call = calls.addObject();
            call.put("index", i++);
            call.put("id", c.id());
            call.put("type", "function");
            call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
        }
    }

    /** A streamed chat delta: {@code text} and/or {@code role}, or the final chunk with a finish reason. */
    static ObjectNode chatChunk(String id, long created, String model, String role, String text, String finish,
                                java.util.List<TokenLogprob> logprobs) {
        ObjectNode o = chatChunk(id, created, model, role, text, finish);
        ((ObjectNode) o.get("choices").get(0)).set("logprobs", chatLogprobs(logprobs));
        return o;
    }

    static ObjectNode chatChunk(String id, long created, String model, String role, String text, String finish) {
        ObjectNode o = base(id, "chat.completion.chunk", created, model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (role != null) {
            delta.put("role", role);
        }
        if (text != null) {
            delta.put("content", text);
        }
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return o;
    }

    /** A streamed piece of a tool call, as OpenAI sends it: id, type and name with the first piece of a call. */
    static ObjectNode toolCallChunk(String id, long created, String model, StreamEvent.ToolCallDelta d) {
        ObjectNode o = base(id, "chat.completion.chunk", created, model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode call = choice.putObject("delta").putArray("tool_calls").addObject();
        call.put("index", d.index());
        if (d.id() != null) {
            call.put("id", d.id());
            call.put("type", "function");
        }
        ObjectNode fn = call.putObject("function");
        if (d.name() != null) {
            fn.put("name", d.name());
        }
        fn.put("arguments", d.arguments());
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return o;
    }

    static ObjectNode usageChunk(String id, String object, long created, String model, Usage u) {
        ObjectNode o = base(id, object, created, model);
        o.putArray("choices");
        o.set("usage", usage(u));
        return o;
    }

    /**
     * A whole completions answer: one choice per prompt, in order, usage summed over them; {@code echoes}, one a prompt,
     * begin each choice's text (empty strings when echo is off).
     */
    static ObjectNode completion(String id, long created, java.util.List<ChatResult> results, java.util.List<String> echoes) {
        ObjectNode o = base(id, "text_completion", created, results.getFirst().metrics().model());
        ArrayNode choices = o.putArray("choices");
        for (int i = 0; i < results.size(); i++) {
            ChatResult r = results.get(i);
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            choice.put("text", echoes.get(i) + r.text());
            choice.set("logprobs", completionLogprobs(r.logprobs()));
            choice.put("finish_reason", finishReason(r.finishReason()));
        }
        o.set("usage", usage(sum(results)));
        return o;
    }

    /** The usage of several generations of one request (a completions request's prompts). */
    static Usage sum(java.util.List<ChatResult> results) {
        int prompt = 0;
        int cached = 0;
        int completion = 0;
        for (ChatResult r : results) {
            prompt += r.usage().promptTokens();
            cached += r.usage().cachedTokens();
            completion += r.usage().completionTokens();
        }
        return new Usage(prompt, cached, completion);
    }

    static ObjectNode completionChunk(String id, long created, String model, int index, String text, String finish,
                                      java.util.List<TokenLogprob> logprobs) {
        ObjectNode o = base(id, "text_completion", created, model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        choice.put("text", text);
        choice.set("logprobs", completionLogprobs(logprobs));
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return o;
    }

    private static ObjectNode base(String id, String object, long created, String model) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        return o;
    }
}

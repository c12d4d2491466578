package io.corral.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Fields;
import io.corral.server.http.RequestMetadata;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.CompletionRequest;
import io.corral.api.ContentPart;
import io.corral.api.ResponseFormat;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;

import java.util.ArrayList;
import java.util.List;

/** OpenAI request JSON to Corral requests; every problem is a 400 that names the field. */
public final class OpenAiRequests {

    private OpenAiRequests() {
    }

    static String model(JsonNode body) {
        JsonNode m = body.get("model");
        if (m == null || !m.isTextual() || m.asText().isBlank()) {
            throw ApiException.badRequest("model", "model is required (a model id from GET /v1/models)");
        }
        return m.asText();
    }

    /**
     * The shields a request names for itself: Llama Stack's {@code guardrails} (on chat completions a top-level field,
     * which OpenAI's SDKs send through {@code extra_body}), each a shield id or {@code {"type": id}}.
     */
    static List<String> guardrails(JsonNode body) {
        JsonNode g = body.get("guardrails");
        if (g == null || g.isNull()) {
            return List.of();
        }
        if (!g.isArray()) {
            throw ApiException.badRequest("guardrails", "guardrails must be a list of shield ids");
        }
        List<String> ids = new java.util.ArrayList<>();
        for (JsonNode e : g) {
            JsonNode id = e.isObject() ? e.get("type") : e;
            if (id == null || !id.isTextual() || id.asText().isBlank()) {
                throw ApiException.badRequest("guardrails", "each guardrail is a shield id, or an object whose type is one");
            }
            ids.add(id.asText());
        }
        return ids;
    }

    static boolean stream(JsonNode body) {
        return bool(body, "stream", false);
    }

    static boolean includeUsage(JsonNode body) {
        JsonNode o = body.get("stream_options");
        return o != null && o.isObject() && bool(o, "include_usage", false);
    }

    static ChatRequest chat(JsonNode body) {
        List<ChatMessage> list = messages(body);
        SamplingParams sampling = sampling(body);
        if (bool(body, "logprobs", false)) {
            sampling = sampling.toBuilder().logprobs(has(body, "top_logprobs") ? (int) integer(body, "top_logprobs") : 0).build();
        } else if (has(body, "top_logprobs")) {
            throw ApiException.badRequest("top_logprobs", "top_logprobs needs logprobs: true");
        }
        return new ChatRequest(model(body), list, sampling, format(body), tools(body), toolChoice(body));
    }

    /** A body's {@code messages}: OpenAI's message params (the safety API's {@code run-shield} takes them too). */
    public static List<ChatMessage> messages(JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty array");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            list.add(message(messages.get(i), "messages[" + i + "]"));
        }
        return list;
    }

    static List<ToolSpec> tools(JsonNode body) {
        List<ToolSpec> tools = new ArrayList<>();
        JsonNode ts = body.get("tools");
        if (ts == null || ts.isNull()) {
            return tools;
        }
        if (!ts.isArray()) {
            throw ApiException.badRequest("tools", "tools must be an array");
        }
        for (JsonNode t : ts) {
            JsonNode fn = t.path("function");
            if (!"function".equals(t.path("type").asText()) || !fn.path("name").isTextual()) {
                throw ApiException.badRequest("tools", "each tool must be {\"type\":\"function\",\"function\":{\"name\",...}}");
            }
            JsonNode params = fn.get("parameters");
            tools.add(new ToolSpec(fn.get("name").asText(), fn.path("description").asText(""),
                    params == null || params.isNull() ? null : params.toString()));
        }
        return tools;
    }

    static ToolChoice toolChoice(JsonNode body) {
        JsonNode c = body.get("tool_choice");
        if (c == null || c.isNull()) {
            return ToolChoice.AUTO;
        }
        if (c.isTextual()) {
            ToolChoice word = ToolChoice.ofWord(c.asText());
            if (word == null) {
                throw ApiException.badRequest("tool_choice", "tool_choice must be auto, none, required or a named function");
            }
            return word;
        }
        String name = c.path("function").path("name").asText("");
        if (name.isEmpty()) {
            throw ApiException.badRequest("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}");
        }
        return new ToolChoice.Named(name);
    }

    /**
     * The prompts of a completions request, one request each: {@code prompt} is a string, an array of
     * strings, an array of token ids, or an array of such arrays, as OpenAI accepts.
     */
    static List<CompletionRequest> completions(JsonNode body) {
        JsonNode prompt = body.get("prompt");
        SamplingParams sampling = sampling(body);
        if (has(body, "logprobs")) { // the legacy API: an integer, the number of alternatives
            sampling = sampling.toBuilder().logprobs((int) integer(body, "logprobs")).build();
        }
        if (has(body, "best_of") && integer(body, "best_of") != 1) {
            throw ApiException.badRequest("best_of", "only best_of=1 is supported");
        }
        if (has(body, "suffix") && !body.get("suffix").asText("").isEmpty()) {
            throw ApiException.badRequest("suffix", "suffix (text after the completion) is not supported");
        }
        if (echo(body) && has(body, "logprobs")) {
            throw ApiException.badRequest("echo", "echo with logprobs is not supported: the prompt's log-probabilities are not computed");
        }
        String model = model(body);
        ResponseFormat format = format(body);
        List<CompletionRequest> requests = new ArrayList<>();
        String shape = "prompt must be a string, an array of strings, an array of token ids or an array of such arrays";
        if (prompt != null && prompt.isTextual()) {
            requests.add(new CompletionRequest(model, prompt.asText(), sampling, format));
        } else if (prompt != null && prompt.isArray() && !prompt.isEmpty()) {
            if (prompt.get(0).isIntegralNumber()) {
                requests.add(CompletionRequest.ofTokens(model, tokens(prompt, shape), sampling, format));
            } else {
                if (prompt.size() > MAX_PROMPTS) {
                    throw ApiException.badRequest("prompt", "prompt has " + prompt.size() + " items; at most " + MAX_PROMPTS + " are allowed");
                }
                for (JsonNode p : prompt) {
                    if (p.isTextual()) {
                        requests.add(new CompletionRequest(model, p.asText(), sampling, format));
                    } else if (p.isArray() && !p.isEmpty()) {
                        requests.add(CompletionRequest.ofTokens(model, tokens(p, shape), sampling, format));
                    } else {
                        throw ApiException.badRequest("prompt", shape);
                    }
                }
            }
        } else {
            throw ApiException.badRequest("prompt", shape);
        }
        if (echo(body) && requests.stream().anyMatch(r -> r.promptTokens() != null)) {
            throw ApiException.badRequest("echo", "echo needs prompts given as text, not token ids");
        }
        return requests;
    }

    /** {@code echo}: whether each completion begins with its prompt, as the legacy completions API does. */
    static boolean echo(JsonNode body) {
        return bool(body, "echo", false);
    }

    /** The most prompts one completions request may carry (each is generated in turn). */
    static final int MAX_PROMPTS = 16;

    private static List<Integer> tokens(JsonNode array, String shape) {
        List<Integer> tokens = new ArrayList<>();
        for (JsonNode t : array) {
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0) {
                throw ApiException.badRequest("prompt", shape + " (token ids are whole numbers >= 0)");
            }
            tokens.add(t.asInt());
        }
        return tokens;
    }

    private static ChatMessage message(JsonNode m, String where) {
        if (!m.isObject()) {
            throw ApiException.badRequest(where, where + " must be an object");
        }
        String roleName = m.path("role").asText("");
        Role role = switch (roleName) {
            case "system", "developer" -> Role.SYSTEM;
            case "user" -> Role.USER;
            case "assistant" -> Role.ASSISTANT;
            case "tool" -> Role.TOOL;
            default -> throw ApiException.badRequest(where + ".role",
                    where + ".role must be system, developer, user, assistant or tool, was '" + roleName + "'");
        };
        List<ContentPart> parts = new ArrayList<>();
        JsonNode content = m.get("content");
        if (content == null || content.isNull()) {
            if (role != Role.ASSISTANT) {
                throw ApiException.badRequest(where + ".content", where + ".content is required");
            }
        } else if (content.isTextual()) {
            parts.add(ContentPart.text(content.asText()));
        } else if (content.isArray()) {
            for (int i = 0; i < content.size(); i++) {
                JsonNode part = content.get(i);
                String at = where + ".content[" + i + "]";
                String type = part.path("type").asText("");
                switch (type) {
                    case "text" -> {
                        if (!part.path("text").isTextual()) { // as OpenAI answers: a part without its text is refused
                            throw ApiException.badRequest(at + ".text", at + ".text is required and must be a string");
                        }
                        parts.add(ContentPart.text(part.get("text").asText()));
                    }
                    case "image_url" -> {
                        JsonNode url = part.path("image_url");
                        String u = url.isTextual() ? url.asText() : url.path("url").asText("");
                        if (u.isBlank()) {
                            throw ApiException.badRequest(at + ".image_url", at + ".image_url.url is required");
                        }
                        parts.add(ContentPart.image(u));
                    }
                    default -> throw ApiException.badRequest(where + ".content",
                            "unsupported content part type '" + type + "' (text and image_url are)");
                }
            }
        } else {
            throw ApiException.badRequest(where + ".content", where + ".content must be a string or an array of parts");
        }
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode call : m.path("tool_calls")) {
            JsonNode fn = call.path("function");
            calls.add(new ToolCall(call.path("id").asText(), fn.path("name").asText(), fn.path("arguments").asText("{}")));
        }
        String toolCallId = m.hasNonNull("tool_call_id") ? m.get("tool_call_id").asText() : null;
        return new ChatMessage(role, parts, calls, toolCallId);
    }

    static SamplingParams sampling(JsonNode body) {
        SamplingParams.Builder b = SamplingParams.DEFAULTS.toBuilder();
        if (has(body, "temperature")) {
            b.temperature(number(body, "temperature"));
        }
        if (has(body, "top_p")) {
            b.topP(number(body, "top_p"));
        }
        if (has(body, "top_k")) {
            b.topK((int) integer(body, "top_k"));
        }
        if (has(body, "min_p")) {
            b.minP(number(body, "min_p"));
        }
        if (has(body, "repeat_penalty")) {
            b.repeatPenalty(number(body, "repeat_penalty"));
        }
        if (has(body, "presence_penalty")) {
            b.presencePenalty(number(body, "presence_penalty"));
        }
        if (has(body, "frequency_penalty")) {
            b.frequencyPenalty(number(body, "frequency_penalty"));
        }
        if (has(body, "seed")) {
            b.seed(integer(body, "seed"));
        }
        String maxKey = has(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (has(body, maxKey)) {
            long max = integer(body, maxKey);
            if (max < 1) {
                throw ApiException.badRequest(maxKey, maxKey + " must be at least 1, was " + max);
            }
            b.maxTokens((int) Math.min(max, Integer.MAX_VALUE));
        }
        if (has(body, "n") && integer(body, "n") != 1) {
            throw ApiException.badRequest("n", "only n=1 is supported");
        }
        logitBias(body.get("logit_bias"));
        JsonNode stop = body.get("stop");
        if (stop != null && !stop.isNull()) {
            List<String> stops = new ArrayList<>();
            if (stop.isTextual()) {
                stops.add(stop.asText());
            } else if (stop.isArray() && stop.size() <= 4) {
                stop.forEach(s -> stops.add(s.asText()));
            } else {
                throw ApiException.badRequest("stop", "stop must be a string or an array of up to 4 strings");
            }
            b.stop(stops);
        }
        return b.build();
    }

    /**
     * {@code metadata}: at most 16 string pairs (keys up to 64 characters, values up to 512), as OpenAI
     * bounds it; they become attributes of the request's trace.
     */
    /** A body's {@code metadata}: OpenAI's string pairs, bounded by {@link RequestMetadata} (conversations use it too). */
    public static java.util.Map<String, String> metadata(JsonNode body) {
        JsonNode m = body.get("metadata");
        java.util.Map<String, String> pairs = new java.util.LinkedHashMap<>();
        if (m == null || m.isNull()) {
            return pairs;
        }
        if (!m.isObject() || m.size() > RequestMetadata.MAX_PAIRS) {
            throw RequestMetadata.tooMany();
        }
        for (var e : m.properties()) {
            RequestMetadata.check(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : null);
            pairs.put(e.getKey(), e.getValue().asText());
        }
        return pairs;
    }

    /**
     * {@code logit_bias}: a map from token ids to biases in [-100, 100], checked as OpenAI checks it.
     * Corral's engines do not apply it yet; a malformed one is refused, not ignored.
     */
    static void logitBias(JsonNode bias) {
        if (bias == null || bias.isNull()) {
            return;
        }
        if (!bias.isObject()) {
            throw ApiException.badRequest("logit_bias", "logit_bias must be an object mapping token ids to numbers");
        }
        for (var e : bias.properties()) {
            if (!e.getKey().matches("\\d{1,9}")) {
                throw ApiException.badRequest("logit_bias", "logit_bias key '" + e.getKey() + "' is not a token id");
            }
            JsonNode v = e.getValue();
            if (!v.isNumber() || v.asDouble() < -100 || v.asDouble() > 100) {
                throw ApiException.badRequest("logit_bias", "logit_bias value for token " + e.getKey() + " must be a number in [-100, 100]");
            }
        }
    }

    static ResponseFormat format(JsonNode body) {
        JsonNode f = body.get("response_format");
        if (f == null || f.isNull()) {
            return ResponseFormat.TEXT;
        }
        String type = f.path("type").asText("");
        return switch (type) {
            case "text" -> ResponseFormat.TEXT;
            case "json_object" -> ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                JsonNode s = f.path("json_schema");
                if (!s.path("schema").isObject()) {
                    throw ApiException.badRequest("response_format", "response_format.json_schema.schema must be an object");
                }
                yield new ResponseFormat.JsonSchema(s.path("name").asText("response"), s.get("schema").toString());
            }
            default -> throw ApiException.badRequest("response_format",
                    "response_format.type must be text, json_object or json_schema, was '" + type + "'");
        };
    }

    private static boolean has(JsonNode body, String key) {
        return body.hasNonNull(key);
    }

    private static double number(JsonNode body, String key) {
        return Fields.number(body, key, key); // present: has() was asked first
    }

    private static long integer(JsonNode body, String key) {
        JsonNode v = body.get(key);
        if (!v.isIntegralNumber()) {
            throw ApiException.badRequest(key, key + " must be an integer");
        }
        return v.asLong();
    }

    private static boolean bool(JsonNode body, String key, boolean fallback) {
        return java.util.Objects.requireNonNullElse(Fields.flag(body, key, key), fallback);
    }
}

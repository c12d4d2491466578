package io.corral.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.ToolCall;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a model family writes a tool call, told by its chat template, and how to read the calls back out of
 * what it generated:
 * <ul>
 *   <li>{@link #HERMES} (Hermes, Qwen 2.5/3): {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, one block a call;</li>
 *   <li>{@link #MISTRAL}: {@code [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]};</li>
 *   <li>{@link #LLAMA3} (Llama 3.1-3.3): a JSON object {@code {"name": ..., "parameters": {...}}}, possibly after
 *       {@code <|python_tag|>};</li>
 *   <li>{@link #GENERIC} (any other): an answer that is one JSON object with {@code name} and {@code arguments}
 *       (or {@code parameters}), possibly in a {@code ```json} fence.</li>
 * </ul>
 */
enum ToolCallFormat {
    HERMES("<tool_call>"),
    MISTRAL("[TOOL_CALLS]"),
    LLAMA3("<|python_tag|>"),
    GENERIC(null);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HERMES_CALL = Pattern.compile("<tool_call>\\s*(\\{.*?})\\s*</tool_call>", Pattern.DOTALL);

    /** The text that marks a call's start, or null when the answer's first character does. */
    final String trigger;

    ToolCallFormat(String trigger) {
        this.trigger = trigger;
    }

    /** The family a chat template writes calls in. */
    static ToolCallFormat of(String template) {
        if (template == null) {
            return GENERIC;
        }
        if (template.contains("<tool_call>")) {
            return HERMES;
        }
        if (template.contains("[TOOL_CALLS]")) {
            return MISTRAL;
        }
        if (template.contains("<|python_tag|>") || template.contains("Environment: ipython")) {
            return LLAMA3;
        }
        return GENERIC;
    }

    /** An answer read back: the text before the calls, and the calls (none when it is plain text). */
    record Parsed(String content, List<ToolCall> calls) {
    }

    /**
     * The lazy grammar's trigger (llama.cpp's: a regular expression over the whole output; the grammar applies
     * from its first group): the marker wherever it appears, or an answer that opens with '{'.
     */
    String triggerPattern() {
        return switch (this) {
            case HERMES, MISTRAL -> "[\\s\\S]*?(" + trigger.replaceAll("[\\[\\]|(){}.*+?^$\\\\]", "\\\\$0") + "[\\s\\S]*)";
            case LLAMA3, GENERIC -> "^\\s*(\\{[\\s\\S]*)";
        };
    }

    /** Where in {@code text} a call begins, or -1 (for the formats whose answers start with JSON: a '{' first). */
    int start(String text) {
        if (trigger != null) {
            int at = text.indexOf(trigger);
            if (at >= 0 || this != LLAMA3) {
                return at;
            }
        }
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("{") || (this == GENERIC && trimmed.startsWith("```"))) {
            return text.length() - trimmed.length();
        }
        return -1;
    }

    /** Reads the calls out of a whole answer; plain text (or calls that do not parse) is all content. */
    Parsed parse(String text) {
        int at = start(text);
        if (at < 0) {
            return new Parsed(text, List.of());
        }
        String content = text.substring(0, at).strip();
        String rest = text.substring(at);
        List<ToolCall> calls = new ArrayList<>();
        try {
            switch (this) {
                case HERMES -> {
                    Matcher m = HERMES_CALL.matcher(rest);
                    while (m.find()) {
                        calls.add(call(JSON.readTree(m.group(1))));
                    }
                }
                case MISTRAL -> {
                    JsonNode list = JSON.readTree(rest.substring(trigger.length()).strip());
                    for (JsonNode c : list.isArray() ? list : JSON.createArrayNode().add(list)) {
                        calls.add(call(c));
                    }
                }
                case LLAMA3, GENERIC -> {
                    String body = rest.startsWith("<|python_tag|>") ? rest.substring("<|python_tag|>".length()) : rest;
                    body = body.strip();
                    if (body.startsWith("```")) {
                        body = body.replaceFirst("^```(?:json)?\\s*", "").replaceFirst("\\s*```\\s*$", "");
                    }
                    for (String one : body.split(";\\s*(?=\\{)")) { // Llama 3 may write several, ';' between
                        calls.add(call(JSON.readTree(one)));
                    }
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            return new Parsed(text, List.of()); // not a call after all: the answer is text
        }
        return calls.isEmpty() ? new Parsed(text, List.of()) : new Parsed(content, calls);
    }

    private static ToolCall call(JsonNode c) {
        JsonNode name = c.get("name");
        JsonNode args = c.has("arguments") ? c.get("arguments") : c.get("parameters");
        if (name == null || !name.isTextual() || args == null) {
            throw new IllegalArgumentException("not a call");
        }
        String id = c.path("id").isTextual() ? c.get("id").asText() : newId();
        return new ToolCall(id, name.asText(), args.isTextual() ? args.asText() : args.toString());
    }

    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }
}

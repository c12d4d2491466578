package io.corral.llamacpp;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.ChatMessage;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.api.ToolCall;
import io.corral.api.ToolSpec;
import io.corral.llamacpp.ffi.NativeModel;
import io.corral.llamacpp.template.Template;
import io.corral.llamacpp.template.TemplateException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a conversation into prompt text. A model with a chat template (its GGUF's Jinja) is prompted as the
 * template says, rendered by our own Jinja interpreter as Hugging Face renders it, with the request's tools
 * and the conversation's tool calls and results where the template puts them (a {@code tool_use} variant of the
 * template, when the model has one, for requests with tools); a template the interpreter cannot read falls
 * back to llama.cpp's built-in implementations (ChatML when it does not know it either). A model without
 * one is a base model: a lone user message is completed as plain text, and anything longer uses the
 * plain layout
 * <pre>
 * {system}
 *
 * User: {text}
 * Assistant: {text}
 * User: {text}
 * Assistant:</pre>
 * with {@code "\nUser:"} as an extra stop sequence.
 */
final class PromptFormat {

    static final String PLAIN_STOP = "\nUser:";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger("io.corral.llamacpp");

    private final NativeModel model;
    private final String template;       // the template's text, or null for a base model
    private final Template jinja;        // ours, or null when it could not read the template
    private final Template toolUse;      // the tool_use variant, or null
    private final String builtin;        // llama.cpp's name for the fallback
    private final ToolCallFormat calls;
    private final String bos;            // the special tokens' text, as templates write them
    private final String eos;

    PromptFormat(NativeModel model) {
        this.model = model;
        this.template = model.chatTemplate();
        this.jinja = template == null ? null : compile(template, "tokenizer.chat_template");
        String variant = model.chatTemplate("tool_use");
        this.toolUse = variant == null ? null : compile(variant, "tokenizer.chat_template.tool_use");
        String b = null;
        if (template != null && jinja == null) {
            b = model.applyTemplate(template, List.of(new NativeModel.TemplateMessage("user", "x")), true) == null ? "chatml" : template;
        }
        this.builtin = b;
        this.calls = ToolCallFormat.of(variant != null ? variant : template);
        this.bos = template == null ? "" : model.bosText();
        this.eos = template == null ? "" : model.eosText();
    }

    private static Template compile(String source, String key) {
        try {
            return Template.parse(source);
        } catch (TemplateException e) {
            LOG.log(System.Logger.Level.WARNING, key + " cannot be read (" + e.getMessage() + "); using llama.cpp's built-in templates");
            return null;
        }
    }

    /** How this model writes tool calls. */
    ToolCallFormat toolCalls() {
        return calls;
    }

    boolean plain() {
        return template == null;
    }

    /** Extra stop sequences the layout needs. */
    List<String> stops() {
        return plain() ? List.of(PLAIN_STOP) : List.of();
    }

    /** A stateless request: a lone user message to a base model is its own prompt. */
    String renderRequest(List<ChatMessage> messages) {
        return renderRequest(messages, List.of());
    }

    String renderRequest(List<ChatMessage> messages, List<ToolSpec> tools) {
        if (plain() && messages.size() == 1 && messages.getFirst().role() == Role.USER) {
            return messages.getFirst().text();
        }
        return render(messages, tools, true);
    }

    /** A message's text; an assistant's tool calls are written as the JSON they were generated as. */
    private static String content(ChatMessage m) {
        if (m.toolCalls().isEmpty()) {
            return m.text();
        }
        StringBuilder sb = new StringBuilder(m.text());
        for (var c : m.toolCalls()) {
            sb.append("{\"name\": \"").append(c.name()).append("\", \"arguments\": ").append(c.arguments()).append('}');
        }
        return sb.toString();
    }

    String render(List<ChatMessage> messages, boolean addAssistant) {
        return render(messages, List.of(), addAssistant);
    }

    /** The conversation as prompt text, ending with the assistant's cue when {@code addAssistant}. */
    String render(List<ChatMessage> messages, List<ToolSpec> tools, boolean addAssistant) {
        if (jinja != null) {
            Template t = !tools.isEmpty() && toolUse != null ? toolUse : jinja;
            Map<String, Object> vars = new HashMap<>();
            vars.put("messages", messages(messages));
            vars.put("add_generation_prompt", addAssistant);
            vars.put("bos_token", bos);
            vars.put("eos_token", eos);
            if (!tools.isEmpty()) {
                vars.put("tools", tools(tools));
            }
            String text;
            try {
                text = t.render(vars);
            } catch (TemplateException e) {
                throw new InvalidRequestException("messages", "the model's chat template refused the conversation: " + e.getMessage());
            }
            // the tokenizer adds the BOS token itself: the template's copy would make two
            return !bos.isEmpty() && model.addsBos() && text.startsWith(bos) ? text.substring(bos.length()) : text;
        }
        if (builtin != null) {
            List<NativeModel.TemplateMessage> m = messages.stream()
                    .map(x -> new NativeModel.TemplateMessage(x.role().wireName(), content(x))).toList();
            return model.applyTemplate(builtin, m, addAssistant);
        }
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String text = content(m);
            switch (m.role()) {
                case SYSTEM -> sb.append(text).append("\n\n");
                case USER -> sb.append("User: ").append(text).append('\n');
                // verbatim after the cue when it starts with white space, as the model's own answers do
                case ASSISTANT -> sb.append("Assistant:")
                        .append(text.isEmpty() || Character.isWhitespace(text.charAt(0)) ? "" : " ")
                        .append(text).append('\n');
                case TOOL -> sb.append("Tool: ").append(text).append('\n');
            }
        }
        if (addAssistant) {
            sb.append("Assistant:");
        }
        return sb.toString();
    }

    /** Messages as Hugging Face's chat templates read them: role, content, tool_calls, tool_call_id, name. */
    private static List<Map<String, Object>> messages(List<ChatMessage> messages) {
        Map<String, String> toolNames = new HashMap<>();
        List<Map<String, Object>> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("role", m.role().wireName());
            x.put("content", m.text());
            if (!m.toolCalls().isEmpty()) {
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ToolCall c : m.toolCalls()) {
                    toolNames.put(c.id(), c.name());
                    Map<String, Object> fn = new LinkedHashMap<>();
                    fn.put("name", c.name());
                    fn.put("arguments", parsed(c.arguments()));
                    Map<String, Object> call = new LinkedHashMap<>();
                    call.put("id", c.id());
                    call.put("type", "function");
                    call.put("function", fn);
                    calls.add(call);
                }
                x.put("tool_calls", calls);
            }
            if (m.role() == Role.TOOL) {
                x.put("tool_call_id", m.toolCallId());
                if (toolNames.containsKey(m.toolCallId())) {
                    x.put("name", toolNames.get(m.toolCallId()));
                }
            }
            out.add(x);
        }
        return out;
    }

    /** Tools as OpenAI (and the templates) write them: {type: function, function: {name, description, parameters}}. */
    private static List<Map<String, Object>> tools(List<ToolSpec> tools) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ToolSpec t : tools) {
            Map<String, Object> fn = new LinkedHashMap<>();
            fn.put("name", t.name());
            if (t.description() != null) {
                fn.put("description", t.description());
            }
            fn.put("parameters", parsed(t.parameters()));
            Map<String, Object> tool = new LinkedHashMap<>(); // in OpenAI's order: templates print it as it is
            tool.put("type", "function");
            tool.put("function", fn);
            out.add(tool);
        }
        return out;
    }

    /** JSON text as maps and lists (arguments, schemas); text that is not JSON stays text. */
    private static Object parsed(String json) {
        try {
            return JSON.readValue(json, Object.class);
        } catch (IOException e) {
            return json;
        }
    }
}

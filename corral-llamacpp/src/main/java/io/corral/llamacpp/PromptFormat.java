package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.Role;
import io.corral.llamacpp.ffi.NativeModel;

import java.util.List;

/**
 * Turns a conversation into prompt text. A model with a chat template uses it (through llama.cpp's
 * built-in template implementations; an unrecognised template falls back to ChatML). A model without
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

    private final NativeModel model;
    private final String template;

    PromptFormat(NativeModel model) {
        this.model = model;
        String t = model.chatTemplate();
        if (t != null && model.applyTemplate(t, List.of(new NativeModel.TemplateMessage("user", "x")), true) == null) {
            System.getLogger("io.corral.llamacpp").log(System.Logger.Level.WARNING,
                    "chat template not recognised by llama.cpp; using ChatML");
            t = "chatml";
        }
        this.template = t;
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
        if (plain() && messages.size() == 1 && messages.getFirst().role() == Role.USER) {
            return messages.getFirst().text();
        }
        return render(messages, true);
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

    /** The conversation as prompt text, ending with the assistant's cue when {@code addAssistant}. */
    String render(List<ChatMessage> messages, boolean addAssistant) {
        if (!plain()) {
            List<NativeModel.TemplateMessage> m = messages.stream()
                    .map(x -> new NativeModel.TemplateMessage(x.role().wireName(), content(x))).toList();
            return model.applyTemplate(template, m, addAssistant);
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
}

package io.corral.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A request for the next assistant message.
 *
 * @param model    the model id; null for the provider's default
 * @param messages the conversation so far, oldest first
 * @param format   the shape the answer must take
 * @param tools    functions the model may call
 * @param toolChoice whether and which tool it must call
 */
public record ChatRequest(String model, List<ChatMessage> messages, SamplingParams sampling, ResponseFormat format,
                          List<ToolSpec> tools, ToolChoice toolChoice) {

    public ChatRequest {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must not be empty");
        }
        sampling = Objects.requireNonNullElse(sampling, SamplingParams.DEFAULTS);
        format = Objects.requireNonNullElse(format, ResponseFormat.TEXT);
        tools = tools == null ? List.of() : List.copyOf(tools);
        toolChoice = Objects.requireNonNullElse(toolChoice, ToolChoice.AUTO);
        if (toolChoice instanceof ToolChoice.Named n && tools.stream().noneMatch(t -> t.name().equals(n.name()))) {
            throw new InvalidRequestException("tool_choice", "tool_choice names '" + n.name() + "', which is not in tools");
        }
        if (toolChoice instanceof ToolChoice.Required && tools.isEmpty()) {
            throw new InvalidRequestException("tool_choice", "tool_choice is required but no tools are given");
        }
    }

    public ChatRequest(String model, List<ChatMessage> messages, SamplingParams sampling, ResponseFormat format) {
        this(model, messages, sampling, format, List.of(), ToolChoice.AUTO);
    }

    /** The same request for another model id (a runner's own name for the model). */
    public ChatRequest withModel(String id) {
        return new ChatRequest(id, messages, sampling, format, tools, toolChoice);
    }

    /** Whether the answer must be a tool call. */
    public boolean forcesToolCall() {
        return !tools.isEmpty() && (toolChoice instanceof ToolChoice.Required || toolChoice instanceof ToolChoice.Named);
    }

    /** One user message with default sampling. */
    public static ChatRequest of(String userText) {
        return builder().user(userText).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private String model;
        private final List<ChatMessage> messages = new ArrayList<>();
        private SamplingParams sampling = SamplingParams.DEFAULTS;
        private ResponseFormat format = ResponseFormat.TEXT;
        private final List<ToolSpec> tools = new ArrayList<>();
        private ToolChoice toolChoice = ToolChoice.AUTO;

        public Builder model(String v) { model = v; return this; }
        public Builder message(ChatMessage m) { messages.add(m); return this; }
        public Builder messages(List<ChatMessage> m) { messages.addAll(m); return this; }
        public Builder system(String text) { return message(ChatMessage.system(text)); }
        public Builder user(String text) { return message(ChatMessage.user(text)); }
        public Builder assistant(String text) { return message(ChatMessage.assistant(text)); }
        public Builder sampling(SamplingParams v) { sampling = v; return this; }
        public Builder format(ResponseFormat v) { format = v; return this; }
        public Builder tool(ToolSpec t) { tools.add(t); return this; }
        public Builder tools(List<ToolSpec> t) { tools.addAll(t); return this; }
        public Builder toolChoice(ToolChoice v) { toolChoice = v; return this; }

        public ChatRequest build() {
            return new ChatRequest(model, messages, sampling, format, tools, toolChoice);
        }
    }
}

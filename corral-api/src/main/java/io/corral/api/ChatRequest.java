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
 */
public record ChatRequest(String model, List<ChatMessage> messages, SamplingParams sampling, ResponseFormat format) {

    public ChatRequest {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must not be empty");
        }
        sampling = Objects.requireNonNullElse(sampling, SamplingParams.DEFAULTS);
        format = Objects.requireNonNullElse(format, ResponseFormat.TEXT);
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

        public Builder model(String v) { model = v; return this; }
        public Builder message(ChatMessage m) { messages.add(m); return this; }
        public Builder messages(List<ChatMessage> m) { messages.addAll(m); return this; }
        public Builder system(String text) { return message(ChatMessage.system(text)); }
        public Builder user(String text) { return message(ChatMessage.user(text)); }
        public Builder assistant(String text) { return message(ChatMessage.assistant(text)); }
        public Builder sampling(SamplingParams v) { sampling = v; return this; }
        public Builder format(ResponseFormat v) { format = v; return this; }

        public ChatRequest build() {
            return new ChatRequest(model, messages, sampling, format);
        }
    }
}

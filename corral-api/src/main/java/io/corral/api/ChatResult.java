package io.corral.api;

import java.util.List;

/** The answer of one call: text, why it ended, token counts and timings. */
public record ChatResult(String text, List<ToolCall> toolCalls, FinishReason finishReason, Usage usage,
                         Metrics metrics) {

    public ChatResult {
        toolCalls = List.copyOf(toolCalls);
    }

    public ChatMessage message() {
        return new ChatMessage(Role.ASSISTANT, List.of(ContentPart.text(text)), toolCalls, null);
    }
}

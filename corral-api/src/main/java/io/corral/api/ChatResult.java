package io.corral.api;

import java.util.List;

/** The answer of one call: text, why it ended, token counts and timings, log-probabilities if asked for. */
public record ChatResult(String text, List<ToolCall> toolCalls, FinishReason finishReason, Usage usage,
                         Metrics metrics, List<TokenLogprob> logprobs) {

    public ChatResult {
        toolCalls = List.copyOf(toolCalls);
        logprobs = logprobs == null ? List.of() : List.copyOf(logprobs);
    }

    public ChatResult(String text, List<ToolCall> toolCalls, FinishReason finishReason, Usage usage, Metrics metrics) {
        this(text, toolCalls, finishReason, usage, metrics, List.of());
    }

    public ChatResult withMetrics(Metrics m) {
        return new ChatResult(text, toolCalls, finishReason, usage, m, logprobs);
    }

    public ChatMessage message() {
        return new ChatMessage(Role.ASSISTANT, List.of(ContentPart.text(text)), toolCalls, null);
    }
}

package io.corral.api;

import java.util.List;
import java.util.Objects;

/**
 * Continue a raw prompt, with no chat template applied: a text, or token ids of the model's own
 * vocabulary ({@code promptTokens}, as OpenAI's API allows; then {@code prompt} is empty).
 */
public record CompletionRequest(String model, String prompt, SamplingParams sampling, ResponseFormat format,
                                List<Integer> promptTokens) {

    public CompletionRequest {
        Objects.requireNonNull(prompt, "prompt");
        sampling = Objects.requireNonNullElse(sampling, SamplingParams.DEFAULTS);
        format = Objects.requireNonNullElse(format, ResponseFormat.TEXT);
        promptTokens = promptTokens == null ? null : List.copyOf(promptTokens);
    }

    public CompletionRequest(String model, String prompt, SamplingParams sampling, ResponseFormat format) {
        this(model, prompt, sampling, format, null);
    }

    /** A prompt of token ids. */
    public static CompletionRequest ofTokens(String model, List<Integer> tokens, SamplingParams sampling, ResponseFormat format) {
        return new CompletionRequest(model, "", sampling, format, tokens);
    }

    public CompletionRequest withModel(String id) {
        return new CompletionRequest(id, prompt, sampling, format, promptTokens);
    }

    public static CompletionRequest of(String prompt, SamplingParams sampling) {
        return new CompletionRequest(null, prompt, sampling, null);
    }
}

package io.corral.api;

import java.util.Objects;

/** Continue a raw text prompt, with no chat template applied. */
public record CompletionRequest(String model, String prompt, SamplingParams sampling, ResponseFormat format) {

    public CompletionRequest {
        Objects.requireNonNull(prompt, "prompt");
        sampling = Objects.requireNonNullElse(sampling, SamplingParams.DEFAULTS);
        format = Objects.requireNonNullElse(format, ResponseFormat.TEXT);
    }

    public CompletionRequest withModel(String id) {
        return new CompletionRequest(id, prompt, sampling, format);
    }

    public static CompletionRequest of(String prompt, SamplingParams sampling) {
        return new CompletionRequest(null, prompt, sampling, null);
    }
}

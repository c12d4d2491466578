package io.corral.api;

import java.util.List;

/** Texts to embed with {@code model} (null for the provider's default). */
public record EmbeddingRequest(String model, List<String> inputs) {

    public EmbeddingRequest {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) {
            throw new InvalidRequestException("input", "input must not be empty");
        }
    }
}

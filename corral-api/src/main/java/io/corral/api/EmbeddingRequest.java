package io.corral.api;

import java.util.List;

/**
 * Texts to embed with {@code model} (null for the provider's default).
 *
 * @param dimensions the vectors' size, shorter than the model's own (truncated and normalized again, as
 *                   OpenAI's {@code dimensions} does for models trained for it); null for the model's own
 */
public record EmbeddingRequest(String model, List<String> inputs, Integer dimensions) {

    public EmbeddingRequest {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) {
            throw new InvalidRequestException("input", "input must not be empty");
        }
        if (dimensions != null && dimensions < 1) {
            throw new InvalidRequestException("dimensions", "dimensions must be at least 1, was " + dimensions);
        }
    }

    public EmbeddingRequest(String model, List<String> inputs) {
        this(model, inputs, null);
    }

    /** The same request for another model id (a runner's own). */
    public EmbeddingRequest withModel(String id) {
        return new EmbeddingRequest(id, inputs, dimensions);
    }
}

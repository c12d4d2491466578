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

    /**
     * The size of the vectors to return for a model that makes {@code modelDimensions}-dimensional ones: the
     * request's {@code dimensions}, or the model's own; more than the model's is refused, naming the model.
     */
    public int size(String modelId, int modelDimensions) {
        if (dimensions != null && dimensions > modelDimensions) {
            throw new InvalidRequestException("dimensions", "model " + modelId + " makes " + modelDimensions
                    + "-dimensional vectors; dimensions must be at most " + modelDimensions);
        }
        return dimensions == null ? modelDimensions : dimensions;
    }

    /** {@code vector} cut to its first {@code size} values and scaled to length 1 (what a caller receives). */
    public static float[] shaped(float[] vector, int size) {
        float[] v = size == vector.length ? vector : java.util.Arrays.copyOf(vector, size);
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        for (int i = 0; norm > 0 && i < v.length; i++) {
            v[i] /= (float) norm;
        }
        return v;
    }

    /** The same request for another model id (a runner's own). */
    public EmbeddingRequest withModel(String id) {
        return new EmbeddingRequest(id, inputs, dimensions);
    }
}

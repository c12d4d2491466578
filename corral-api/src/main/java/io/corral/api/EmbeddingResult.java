package io.corral.api;

import java.util.List;

/** One vector per input, in order, and the tokens read. */
public record EmbeddingResult(String model, List<float[]> vectors, int promptTokens) {
}

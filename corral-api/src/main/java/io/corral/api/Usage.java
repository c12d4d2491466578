package io.corral.api;

/**
 * Token counts of one call.
 *
 * @param promptTokens     tokens of input the answer was conditioned on
 * @param cachedTokens     of those, how many were already in the engine's cache and not evaluated again
 * @param completionTokens tokens generated
 */
public record Usage(int promptTokens, int cachedTokens, int completionTokens) {

    /** Prompt tokens the engine actually had to evaluate. */
    public int evaluatedTokens() {
        return promptTokens - cachedTokens;
    }

    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}

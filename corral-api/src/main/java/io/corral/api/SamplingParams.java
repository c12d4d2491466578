package io.corral.api;

import java.util.ArrayList;
import java.util.List;

/**
 * How the next token is chosen, and when generation stops. Defaults follow llama.cpp's.
 * A temperature of 0 means greedy decoding (always the most likely token).
 *
 * @param maxTokens the most tokens to generate; 0 means until the model ends, at most one context
 *                  window's worth (a session may shift its window to get there)
 * @param seed      random seed; null for a random one
 * @param logprobs  -1: no log-probabilities; 0: of each generated token; N (up to 20): with the N most
 *                  likely alternatives
 * @param given     the parameters the caller set, by their builder names ({@code "temperature"},
 *                  {@code "topP"}, ...): a remote host is sent only these, so its own defaults hold for the rest
 */
public record SamplingParams(
        double temperature,
        double topP,
        int topK,
        double minP,
        double repeatPenalty,
        int repeatLastN,
        double presencePenalty,
        double frequencyPenalty,
        Long seed,
        int maxTokens,
        List<String> stop,
        int logprobs,
        java.util.Set<String> given) {

    public static final SamplingParams DEFAULTS = builder().build();

    public SamplingParams {
        stop = List.copyOf(stop);
        given = java.util.Set.copyOf(given);
        check(temperature >= 0 && Double.isFinite(temperature), "temperature", "must be >= 0, was " + temperature);
        check(topP > 0 && topP <= 1, "top_p", "must be in (0, 1], was " + topP);
        check(topK >= 0, "top_k", "must be >= 0 (0 disables it), was " + topK);
        check(minP >= 0 && minP <= 1, "min_p", "must be in [0, 1], was " + minP);
        check(repeatPenalty > 0 && Double.isFinite(repeatPenalty), "repeat_penalty", "must be > 0 (1 disables it), was " + repeatPenalty);
        check(repeatLastN >= -1, "repeat_last_n", "must be >= -1 (-1 means the whole context), was " + repeatLastN);
        check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty", "must be in [-2, 2], was " + presencePenalty);
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty", "must be in [-2, 2], was " + frequencyPenalty);
        check(maxTokens >= 0, "max_tokens", "must be >= 0, was " + maxTokens);
        check(logprobs >= -1 && logprobs <= 20, "top_logprobs", "must be in [0, 20], was " + logprobs);
        for (String s : stop) {
            check(s != null && !s.isEmpty(), "stop", "must not hold an empty sequence");
        }
    }

    private static void check(boolean ok, String param, String message) {
        if (!ok) {
            throw new InvalidRequestException(param, param + " " + message);
        }
    }

    /** Whether the caller set {@code parameter} (a builder method's name), rather than leaving the default. */
    public boolean isSet(String parameter) {
        return given.contains(parameter);
    }

    public boolean greedy() {
        return temperature == 0;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature;
        b.topP = topP;
        b.topK = topK;
        b.minP = minP;
        b.repeatPenalty = repeatPenalty;
        b.repeatLastN = repeatLastN;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.seed = seed;
        b.maxTokens = maxTokens;
        b.stop = new ArrayList<>(stop);
        b.logprobs = logprobs;
        b.given.addAll(given);
        return b;
    }

    /** Builds {@link SamplingParams}; values are checked by {@link #build()}. */
    public static final class Builder {
        private double temperature = 0.8;
        private double topP = 0.95;
        private int topK = 40;
        private double minP = 0.05;
        private double repeatPenalty = 1.0;
        private int repeatLastN = 64;
        private double presencePenalty;
        private double frequencyPenalty;
        private Long seed;
        private int maxTokens;
        private List<String> stop = new ArrayList<>();
        private int logprobs = -1;
        private final java.util.Set<String> given = new java.util.HashSet<>();

        public Builder temperature(double v) { temperature = v; given.add("temperature"); return this; }
        public Builder topP(double v) { topP = v; given.add("topP"); return this; }
        public Builder topK(int v) { topK = v; given.add("topK"); return this; }
        public Builder minP(double v) { minP = v; given.add("minP"); return this; }
        public Builder repeatPenalty(double v) { repeatPenalty = v; given.add("repeatPenalty"); return this; }
        public Builder repeatLastN(int v) { repeatLastN = v; given.add("repeatLastN"); return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; given.add("presencePenalty"); return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; given.add("frequencyPenalty"); return this; }
        public Builder seed(Long v) { seed = v; given.add("seed"); return this; }
        public Builder maxTokens(int v) { maxTokens = v; given.add("maxTokens"); return this; }
        public Builder stop(List<String> v) { stop = new ArrayList<>(v); given.add("stop"); return this; }
        public Builder stop(String... v) { return stop(List.of(v)); }
        public Builder logprobs(int v) { logprobs = v; given.add("logprobs"); return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, repeatPenalty, repeatLastN,
                    presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, given);
        }
    }
}

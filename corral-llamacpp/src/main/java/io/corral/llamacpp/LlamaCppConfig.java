package io.corral.llamacpp;

import io.corral.api.InvalidRequestException;

import java.nio.file.Path;
import java.util.Map;

/**
 * How to run one model in-process.
 *
 * @param model       the GGUF file
 * @param id          the model id requests use; null for the file name without {@code .gguf}
 * @param contextSize KV cache tokens per context; 0 for the model's trained context, capped at 8192
 * @param threads     CPU threads per generation; 0 for all cores
 * @param batchSize   prompt tokens evaluated per step
 * @param parallel    concurrent stateless generations (contexts in the pool)
 * @param adaptiveThreads whether concurrent generations share the threads (the default) instead of
 *                    each using all of them; see {@code ThreadBudget} and {@code docs/BENCHMARKS.md}
 */
public record LlamaCppConfig(Path model, String id, int contextSize, int threads, int batchSize, int parallel,
                             boolean adaptiveThreads) {

    public LlamaCppConfig {
        if (model == null) {
            throw new InvalidRequestException("model", "model path is required");
        }
        if (contextSize < 0 || threads < 0 || batchSize < 1 || parallel < 1) {
            throw new InvalidRequestException("config", "context size and threads must be >= 0, batch size and parallel >= 1");
        }
        if (id == null || id.isBlank()) {
            String file = model.getFileName().toString();
            id = file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
        }
        if (threads == 0) {
            threads = Runtime.getRuntime().availableProcessors();
        }
    }

    public static LlamaCppConfig of(Path model) {
        return new LlamaCppConfig(model, null, 0, 0, 512, 2, true);
    }

    public LlamaCppConfig withContextSize(int n) {
        return new LlamaCppConfig(model, id, n, threads, batchSize, parallel, adaptiveThreads);
    }

    public LlamaCppConfig withThreads(int n) {
        return new LlamaCppConfig(model, id, contextSize, n, batchSize, parallel, adaptiveThreads);
    }

    public LlamaCppConfig withParallel(int n) {
        return new LlamaCppConfig(model, id, contextSize, threads, batchSize, n, adaptiveThreads);
    }

    public LlamaCppConfig withAdaptiveThreads(boolean on) {
        return new LlamaCppConfig(model, id, contextSize, threads, batchSize, parallel, on);
    }

    public LlamaCppConfig withId(String modelId) {
        return new LlamaCppConfig(model, modelId, contextSize, threads, batchSize, parallel, adaptiveThreads);
    }

    /**
     * From a config section: {@code model}, {@code id}, {@code context_size}, {@code threads},
     * {@code batch_size}, {@code parallel}, {@code adaptive_threads}.
     */
    public static LlamaCppConfig fromMap(Map<String, String> m) {
        String model = m.get("model");
        return new LlamaCppConfig(model == null || model.isBlank() ? BundledModel.path() : Path.of(model), m.get("id"),
                integer(m, "context_size", 0), integer(m, "threads", 0), integer(m, "batch_size", 512),
                integer(m, "parallel", 2), !"false".equalsIgnoreCase(m.getOrDefault("adaptive_threads", "true")));
    }

    private static int integer(Map<String, String> m, String key, int fallback) {
        String v = m.get(key);
        try {
            return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(key, key + " must be a whole number, was '" + v + "'");
        }
    }
}

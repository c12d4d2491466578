package io.corral.llamacpp;

import io.corral.api.InvalidRequestException;

import java.nio.file.Path;

/**
 * How to run one model in-process.
 *
 * @param model       the GGUF file
 * @param id          the model id requests use; null for the file name without {@code .gguf}
 * @param contextSize the context window of each request or session in tokens; 0 for the model's trained context,
 *                    capped at 8192. The KV cache holds a stream of {@code contextSize} tokens for each of
 *                    {@code parallel + 1} sequences
 * @param threads     the most CPU threads a decode step uses (a small model's small steps take one); 0 for all cores
 * @param batchSize   tokens evaluated per decode step (a token of each running generation, then prompt tokens)
 * @param parallel    generations decoded together; more requests wait for a free lane
 * @param offload     how much of the model goes to the GPU; null for as many layers as fit
 * @param mmproj      the model's multimodal projector (a GGUF of llama.cpp's {@code mmproj} kind), which lets it see
 *                    images; null to look beside the model ({@link io.corral.api.Projectors#find})
 */
public record LlamaCppConfig(Path model, String id, int contextSize, int threads, int batchSize, int parallel,
                             Offload offload, Path mmproj) {

    public LlamaCppConfig(Path model, String id, int contextSize, int threads, int batchSize, int parallel, Offload offload) {
        this(model, id, contextSize, threads, batchSize, parallel, offload, null);
    }

    public LlamaCppConfig {
        if (model == null) {
            throw new InvalidRequestException("model", "model path is required");
        }
        check(contextSize, threads, batchSize, parallel);
        if (id == null || id.isBlank()) {
            String file = model.getFileName().toString();
            id = file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
        }
        if (offload == null) {
            offload = Offload.AUTO;
        }
        if (threads == 0) {
            threads = Runtime.getRuntime().availableProcessors();
        }
    }

    /** Refuses values no engine can run with, naming the config key. */
    static void check(int contextSize, int threads, int batchSize, int parallel) {
        at("context_size", contextSize, 0);
        at("threads", threads, 0);
        at("parallel", parallel, 1);
        // a batch holds a token of every running generation and of a shield's call, and llama.cpp an output row per
        // sequence: fewer tokens than that aborted the process
        at("batch_size", batchSize, parallel + 1);
    }

    private static void at(String key, int value, int least) {
        if (value < least) {
            throw new InvalidRequestException(key, key + " must be at least " + least + ", was " + value);
        }
    }

    public static LlamaCppConfig of(Path model) {
        return new LlamaCppConfig(model, null, 0, 0, 512, 2, Offload.AUTO);
    }

    public LlamaCppConfig withContextSize(int n) {
        return new LlamaCppConfig(model, id, n, threads, batchSize, parallel, offload, mmproj);
    }

    public LlamaCppConfig withThreads(int n) {
        return new LlamaCppConfig(model, id, contextSize, n, batchSize, parallel, offload, mmproj);
    }

    public LlamaCppConfig withParallel(int n) {
        return new LlamaCppConfig(model, id, contextSize, threads, batchSize, n, offload, mmproj);
    }

    public LlamaCppConfig withId(String modelId) {
        return new LlamaCppConfig(model, modelId, contextSize, threads, batchSize, parallel, offload, mmproj);
    }

    public LlamaCppConfig withMmproj(Path projector) {
        return new LlamaCppConfig(model, id, contextSize, threads, batchSize, parallel, offload, projector);
    }

    public LlamaCppConfig withOffload(Offload o) {
        return new LlamaCppConfig(model, id, contextSize, threads, batchSize, parallel, o, mmproj);
    }

}

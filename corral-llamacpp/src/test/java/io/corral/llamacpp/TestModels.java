package io.corral.llamacpp;

import io.corral.api.SamplingParams;

import java.nio.file.Files;
import java.nio.file.Path;

/** The real models in {@code shared/models}, beside the repository. */
public final class TestModels {

    /** llama.cpp's greedy continuation of "Once upon a time" (64 tokens), from shared/models/README.md. */
    public static final String REFERENCE = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";
    public static final String PROMPT = "Once upon a time";

    private static LlamaCppEngine shared;

    private TestModels() {
    }

    /**
     * One engine on the real model for the test classes that only read from it (3 parallel contexts,
     * 1 thread each); it lives as long as the test JVM.
     */
    public static synchronized LlamaCppEngine engine() {
        if (shared == null) {
            shared = LlamaCppEngine.open(LlamaCppConfig.of(stories()).withParallel(3).withThreads(1));
        }
        return shared;
    }

    public static Path shared() {
        Path root = Path.of(System.getProperty("corral.root", ".")).toAbsolutePath();
        for (Path p = root; p != null; p = p.getParent()) {
            Path s = p.resolve("shared/models/stories260K.gguf");
            if (Files.isRegularFile(s)) {
                return p.resolve("shared");
            }
            Path sibling = p.resolveSibling("shared/models/stories260K.gguf");
            if (Files.isRegularFile(sibling)) {
                return p.resolveSibling("shared");
            }
        }
        throw new IllegalStateException("shared/models not found near " + root);
    }

    public static Path stories() {
        return shared().resolve("models/stories260K.gguf");
    }

    /**
     * Holds the engine's decode loop between two steps until the returned latch is counted down: what runs stays
     * where it is, so a test can act on it (cancel, close) at a known point, without timing.
     */
    static java.util.concurrent.CountDownLatch holdDecoding(LlamaCppEngine engine) throws InterruptedException {
        var inside = new java.util.concurrent.CountDownLatch(1);
        var hold = new java.util.concurrent.CountDownLatch(1);
        Thread.ofVirtual().start(() -> engine.scheduler().call(() -> {
            inside.countDown();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        inside.await();
        return hold;
    }

    public static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).build();
    }
}

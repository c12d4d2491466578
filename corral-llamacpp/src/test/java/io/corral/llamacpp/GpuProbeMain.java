package io.corral.llamacpp;

import io.corral.api.ChatRequest;
import io.corral.llamacpp.ffi.LlamaLibrary;

/**
 * Run by {@link GpuFallbackTest} in a JVM of its own (the library loads once per JVM): loads llama.cpp as the system
 * properties say, prints what it runs on, then the first greedy tokens of the bundled model, one {@code key=value}
 * per line; a failure prints {@code error=} and its message.
 */
public final class GpuProbeMain {

    public static void main(String[] args) {
        try {
            LlamaLibrary.Backends b = LlamaLibrary.get().backends();
            System.out.println("variant=" + b.variant());
            System.out.println("release=" + b.release());
            System.out.println("backend=" + b.backend());
            System.out.println("gpus=" + b.gpus().size());
            System.out.println("fallback=" + b.fallback());
            try (LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withContextSize(256)
                    .withParallel(1))) {
                System.out.println("device=" + engine.placement().device());
                System.out.println("gpu_layers=" + engine.placement().gpuLayers());
                System.out.println("text=" + engine.chat(ChatRequest.builder().user(TestModels.PROMPT)
                        .sampling(TestModels.greedy(12)).build()).text());
            }
        } catch (RuntimeException e) {
            System.out.println("error=" + e.getMessage());
        }
    }
}

package io.corral.cli;

import io.corral.llamacpp.Offload;
import picocli.CommandLine.Option;

/** How much of an in-process model goes to the GPU: {@code --gpu-layers}, {@code --main-gpu}, {@code --split-mode}, {@code --no-gpu}. */
final class GpuOptions {

    @Option(names = {"-ngl", "--gpu-layers"}, paramLabel = "N",
            description = "Layers to offload to the GPU, the output layer counted (default: as many as fit in its free memory; 0 = none).")
    Integer gpuLayers;

    @Option(names = "--main-gpu", paramLabel = "I", description = "The GPU for the whole model with --split-mode none (default 0).")
    Integer mainGpu;

    @Option(names = "--split-mode", paramLabel = "MODE", description = "How layers spread over several GPUs: none, layer or row (default layer).")
    String splitMode;

    @Option(names = "--no-gpu", description = "Use no GPU at all, even where one is found.")
    boolean noGpu;

    Offload offload() {
        return Offload.of(gpuLayers, mainGpu, splitMode, noGpu);
    }
}

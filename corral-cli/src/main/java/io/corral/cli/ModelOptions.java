package io.corral.cli;

import io.corral.Corral;
import io.corral.api.SamplingParams;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Which model to load and how: {@code --model}, {@code --threads}, {@code --ctx-size} and the GPU options. */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, description = "GGUF model file, or a pulled model's name (default: the bundled stories260K).")
    Path model;

    @Option(names = {"-t", "--threads"}, description = "CPU threads at most (a small model's small steps take one); 0 = all cores (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int threads;

    @Option(names = {"-c", "--ctx-size"}, description = "Context window in tokens; 0 = the model's, up to 8192 (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int contextSize;

    @Option(names = "--mmproj", paramLabel = "FILE", description = "The model's multimodal projector (GGUF), so that it sees"
            + " images (default: NAME.mmproj.gguf or mmproj-NAME.gguf beside the model, if there is one).")
    Path mmproj;

    @picocli.CommandLine.Mixin
    GpuOptions gpu = new GpuOptions();

    Corral open(SamplingParams sampling) {
        return Corral.builder().model(PullCommand.resolve(model)).mmproj(mmproj).threads(threads).contextSize(contextSize).parallel(1)
                .offload(gpu.offload()).sampling(sampling).build();
    }
}

package io.corral.cli;

import io.corral.gguf.ModelMetadata;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.llamacpp.ffi.LlamaLibrary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Validate a model file and print its metadata.",
                "Exit 0 for a good file; non-zero with a one-line reason for a bad one."})
final class CheckCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, description = "The GGUF file to check.")
    Path model;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "The file, as an alternative to --model.")
    Path file;

    @Option(names = "--header-only", description = "Read the header only; do not load the weights with llama.cpp.")
    boolean headerOnly;

    @Option(names = {"-c", "--ctx-size"}, description = "Context window in tokens the placement is figured for; 0 = the model's, up to 8192 (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int contextSize;

    @picocli.CommandLine.Mixin
    GpuOptions gpu = new GpuOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path target = model != null ? model : file;
        if (target == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give the model file with --model FILE");
        }
        ModelMetadata m = ModelMetadata.read(target);
        java.util.Map<String, Object> placement = new java.util.LinkedHashMap<>();
        if (!headerOnly) {
            // loaded as serve loads it (one lane), to say where it runs: device, layers offloaded, device memory
            try (LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(target).withParallel(1)
                    .withContextSize(contextSize).withOffload(gpu.offload()))) {
                LlamaCppEngine.Placement p = engine.placement();
                LlamaLibrary.Backends b = LlamaLibrary.get().backends();
                placement.put("llama_cpp", b.release() + " (" + b.variant() + ")");
                placement.put("device", p.device());
                placement.put("gpu_layers", p.gpuLayers() + "/" + p.layers());
                placement.put("device_memory", p.deviceBytes() + " bytes");
                if (!p.fallback().isEmpty()) {
                    placement.put("gpu_fallback", p.fallback());
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        m.toMap().forEach((k, v) -> out.printf("%-17s %s%n", k + ":", v));
        placement.forEach((k, v) -> out.printf("%-17s %s%n", k + ":", v));
        out.println("ok: " + target + (headerOnly ? " (header checked)" : " (loads in llama.cpp)"));
        out.flush();
        return 0;
    }
}

package io.corral.cli;

import io.corral.gguf.ModelMetadata;
import io.corral.llamacpp.ffi.NativeModel;
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

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path target = model != null ? model : file;
        if (target == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give the model file with --model FILE");
        }
        ModelMetadata m = ModelMetadata.read(target);
        if (!headerOnly) {
            NativeModel.load(target).close();
        }
        PrintWriter out = spec.commandLine().getOut();
        m.toMap().forEach((k, v) -> out.printf("%-17s %s%n", k + ":", v));
        out.println("ok: " + target + (headerOnly ? " (header checked)" : " (loads in llama.cpp)"));
        out.flush();
        return 0;
    }
}

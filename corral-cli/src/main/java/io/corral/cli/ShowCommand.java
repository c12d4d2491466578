package io.corral.cli;

import io.corral.gguf.GgufFile;
import io.corral.gguf.GgufReader;
import io.corral.gguf.ModelMetadata;
import io.corral.models.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code corral show MODEL}: what a pulled model (or a GGUF file) is, from its header, as {@code ollama show} prints it. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Show a pulled model's (or a GGUF file's) metadata, template, parameters and file.",
                "Exit 1 with a one-line reason when there is no such model."})
final class ShowCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", description = "A pulled model's name, or a GGUF file.")
    String model;

    @Option(names = "--template", description = "Print the chat template only, whole.")
    boolean template;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        Optional<ModelStore.Model> pulled = PullCommand.store().find(model);
        Path file = pulled.map(ModelStore.Model::file).orElse(Path.of(model));
        if (pulled.isEmpty() && !Files.isRegularFile(file)) {
            throw new io.corral.api.NotFoundException("model", "no pulled model or file '" + model + "' (corral list shows the pulled ones)");
        }
        GgufFile gguf = GgufReader.read(file);
        ModelMetadata m = ModelMetadata.read(file);
        String chatTemplate = gguf.string("tokenizer.chat_template");
        PrintWriter out = spec.commandLine().getOut();
        if (template) {
            out.println(chatTemplate == null ? "" : chatTemplate);
            out.flush();
            return 0;
        }
        out.println("  Model");
        row(out, "name", m.name().isEmpty() ? model : m.name());
        row(out, "architecture", m.architecture());
        row(out, "parameters", m.parameterCountText());
        row(out, "context length", m.contextLength());
        row(out, "embedding length", m.embeddingLength());
        row(out, "layers", m.layers());
        row(out, "quantization", m.quantization());
        out.println();
        out.println("  Parameters");
        String arch = m.architecture();
        row(out, "rope freq base", gguf.metadata().getOrDefault(arch + ".rope.freq_base", "-"));
        row(out, "eos token", token(gguf, "tokenizer.ggml.eos_token_id"));
        row(out, "bos token", token(gguf, "tokenizer.ggml.bos_token_id"));
        out.println();
        out.println("  Template");
        if (chatTemplate == null) {
            out.println("    (none: a base model, prompted with plain text)");
        } else {
            chatTemplate.lines().limit(6).forEach(l -> out.println("    " + l));
            long more = chatTemplate.lines().count() - 6;
            if (more > 0) {
                out.println("    ... " + more + " more lines (corral show --template " + model + ")");
            }
        }
        Object license = gguf.metadata().get("general.license");
        if (license != null) {
            out.println();
            out.println("  License");
            out.println("    " + license);
        }
        out.println();
        out.println("  File");
        row(out, "path", file.toAbsolutePath());
        row(out, "size", PullCommand.size(m.fileSize()));
        pulled.ifPresent(p -> {
            row(out, "source", p.source());
            row(out, "sha256", p.sha256());
            row(out, "pulled", p.pulledAt());
        });
        Path projector = io.corral.api.Projectors.find(file);
        if (projector != null) { // what the engine loads with the model, so that it sees images
            GgufFile clip = GgufReader.read(projector);
            out.println();
            out.println("  Projector (sees images)");
            row(out, "type", clip.metadata().getOrDefault("clip.projector_type", "-"));
            row(out, "image size", clip.metadata().getOrDefault("clip.vision.image_size", "-"));
            row(out, "patch size", clip.metadata().getOrDefault("clip.vision.patch_size", "-"));
            row(out, "path", projector.toAbsolutePath());
            row(out, "size", PullCommand.size(Files.size(projector)));
        }
        out.flush();
        return 0;
    }

    private static void row(PrintWriter out, String key, Object value) {
        out.printf("    %-18s %s%n", key, value);
    }

    private static String token(GgufFile gguf, String key) {
        long id = gguf.number(key, -1);
        if (id < 0) {
            return "-";
        }
        Object tokens = gguf.metadata().get("tokenizer.ggml.tokens");
        return tokens instanceof java.util.List<?> l && id < l.size() ? l.get((int) id) + " (" + id + ")" : String.valueOf(id);
    }
}

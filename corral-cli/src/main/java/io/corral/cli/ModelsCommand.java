package io.corral.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.corral.gguf.ModelMetadata;
import io.corral.llamacpp.BundledModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the configured models with their metadata (read from each file's header).")
final class ModelsCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, description = "A model file or pulled model's name to list (repeatable; default: the bundled model).")
    List<Path> models = new ArrayList<>();

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> rows = new ArrayList<>();
        List<ModelMetadata> metadata = new ArrayList<>();
        List<Path> files = models.isEmpty() ? List.of(BundledModel.path()) : models;
        for (Path f : files) {
            ModelMetadata m = ModelMetadata.read(PullCommand.resolve(f)); // a file, or a pulled model's name
            metadata.add(m);
            Map<String, Object> row = new LinkedHashMap<>();
            String name = f.getFileName().toString();
            row.put("id", name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name);
            row.put("default", models.isEmpty());
            row.put("loaded", false); // the CLI loads a model only for run and chat; `corral serve` keeps them loaded
            row.putAll(m.toMap());
            rows.add(row);
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(Map.of("models", rows)));
        } else {
            out.printf("%-20s %-8s %-10s %-6s %-8s %-7s %-6s %s%n", "ID", "ARCH", "PARAMS", "QUANT", "CONTEXT", "LAYERS", "VOCAB", "TEMPLATE");
            for (int i = 0; i < rows.size(); i++) {
                ModelMetadata m = metadata.get(i);
                out.printf("%-20s %-8s %-10s %-6s %-8d %-7d %-6d %s%n", rows.get(i).get("id"), m.architecture(),
                        m.parameterCountText(), m.quantization(), m.contextLength(), m.layers(), m.vocabSize(),
                        m.hasChatTemplate() ? "yes" : "no (base model)");
            }
        }
        out.flush();
        return 0;
    }
}

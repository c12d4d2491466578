package io.corral.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a model file's multimodal projector lies beside it, as llama.cpp's and Hugging Face's downloads leave it and
 * as {@code corral pull} links it: {@code NAME.mmproj.gguf} or {@code mmproj-NAME.gguf} for {@code NAME.gguf} (or for
 * a file named {@code NAME} with no extension, as a pulled model's blob is). The one rule the engine, {@code show}
 * and the model store share.
 */
public final class Projectors {

    private Projectors() {
    }

    /** Where a projector for {@code model} is put: {@code NAME.mmproj.gguf} beside it. */
    public static Path beside(Path model) {
        return model.resolveSibling(stem(model) + ".mmproj.gguf");
    }

    /** The projector beside {@code model}, or null when there is none. */
    public static Path find(Path model) {
        for (Path p : List.of(beside(model), model.resolveSibling("mmproj-" + stem(model) + ".gguf"))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static String stem(Path model) {
        String file = model.getFileName().toString();
        return file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
    }
}

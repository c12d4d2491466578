package io.corral.llamacpp;

import io.corral.api.EngineException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The model Corral uses when none is configured: stories260K (MIT, Andrej Karpathy; see
 * {@code bundled/NOTICE.md}), packaged in this jar and copied to {@code ~/.cache/corral/models} on
 * first use, since llama.cpp loads models from files.
 */
public final class BundledModel {

    public static final String FILE = "stories260K.gguf";
    private static final long SIZE = 1_185_376;

    private BundledModel() {
    }

    /** The bundled model as a file. */
    public static Path path() {
        Path dir = Path.of(System.getProperty("corral.cache", System.getProperty("user.home") + "/.cache/corral"), "models");
        Path file = dir.resolve(FILE);
        try {
            if (Files.isRegularFile(file) && Files.size(file) == SIZE) {
                return file;
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, FILE, ".part");
            try (InputStream in = BundledModel.class.getResourceAsStream("bundled/" + FILE)) {
                if (in == null) {
                    throw new EngineException("the bundled model is missing from this build");
                }
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new EngineException("cannot copy the bundled model to " + file + ": " + e.getMessage(), e);
        }
    }
}

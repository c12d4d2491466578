package io.corral.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The models pulled to this machine: each file once under {@code blobs/sha256-<digest>}, and a manifest per name
 * under {@code manifests/} recording where it came from, its digest, size and when. A file lands whole or not at all
 * (it is written beside its final name and moved into place), so no half file is ever seen as a model.
 */
public final class ModelStore {

    /**
     * A pulled model: its name, where it came from, its file, digest and size, and its projector's file (null when it
     * has none; a link to it lies beside the model's file, {@link io.corral.api.Projectors#beside}, where the engine looks).
     */
    public record Model(String name, String source, Path file, String sha256, long size, String pulledAt, Path projector) {
    }

    /**
     * The models package's Jackson mapper, made on first use, not when a command starts (its class loading is a tenth of
     * a second): a pull by URL does not need it (its manifest is written by the streaming generator).
     */
    static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }

    private final Path dir;

    public ModelStore(Path dir) {
        this.dir = dir;
    }

    /** The store under Corral's cache folder ({@code models/}). */
    public static ModelStore inCache(Path cacheDir) {
        return new ModelStore(cacheDir.resolve("models"));
    }

    Path blobs() throws IOException {
        return Files.createDirectories(dir.resolve("blobs"));
    }

    private Path manifest(String name) {
        if (!named(name)) {
            throw new InvalidRequestException("model", "'" + name + "' is not a model name");
        }
        return dir.resolve("manifests").resolve(name.replace(':', '@') + ".json");
    }

    /** Whether {@code name} can name a pulled model: not blank, no way out of the store, no control characters. */
    private static boolean named(String name) {
        return !name.isBlank() && !name.contains("..") && !name.startsWith("/") && name.indexOf('\\') < 0
                && name.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }

    public List<Model> list() {
        Path manifests = dir.resolve("manifests");
        if (!Files.isDirectory(manifests)) {
            return List.of();
        }
        List<Model> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(manifests)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                out.add(read(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public Optional<Model> find(String name) {
        if (!named(name)) {
            return Optional.empty(); // no model can have such a name
        }
        Path m = manifest(name);
        return Files.exists(m) ? Optional.of(read(m)) : Optional.empty();
    }

    /** Removes a model's name; its file too when no other name uses it. */
    public void remove(String name) {
        Model m = find(name).orElseThrow(() -> new NotFoundException("model", "no pulled model '" + name + "'"));
        try {
            Files.delete(manifest(name));
            List<Model> left = list();
            if (left.stream().noneMatch(o -> o.file().equals(m.file()))) {
                Files.deleteIfExists(io.corral.api.Projectors.beside(m.file()));
                Files.deleteIfExists(m.file());
            }
            if (m.projector() != null && left.stream().noneMatch(o -> m.projector().equals(o.projector()) || o.file().equals(m.projector()))) {
                Files.deleteIfExists(m.projector());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records {@code name} for a file now in place. */
    Model record(String name, String source, Path file, String sha256, long size, Path projector) {
        Model m = new Model(name, source, file, sha256, size, java.time.Instant.now().toString(), projector);
        Path target = manifest(name);
        try {
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            // written with Jackson's streaming generator: the mapper's class loading (a tenth of a second) is left to
            // the commands that read manifests, so a pull does not pay it after its download
            try (var out = Files.newOutputStream(tmp); var g = new com.fasterxml.jackson.core.JsonFactory().createGenerator(out)) {
                g.useDefaultPrettyPrinter();
                g.writeStartObject();
                g.writeStringField("name", name);
                g.writeStringField("source", source);
                g.writeStringField("file", file.toString());
                g.writeStringField("sha256", sha256);
                g.writeNumberField("size", size);
                g.writeStringField("pulled_at", m.pulledAt());
                if (projector != null) {
                    g.writeStringField("projector", projector.toString());
                }
                g.writeEndObject();
            }
            move(tmp, target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Model read(Path f) {
        try {
            var o = Mapper.JSON.readTree(f.toFile());
            return new Model(o.path("name").asText(), o.path("source").asText(), Path.of(o.path("file").asText()),
                    o.path("sha256").asText(), o.path("size").asLong(), o.path("pulled_at").asText(),
                    o.hasNonNull("projector") ? Path.of(o.path("projector").asText()) : null);
        } catch (IOException e) {
            throw new UncheckedIOException("the manifest " + f + " cannot be read", e);
        }
    }
}

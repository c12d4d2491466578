package io.corral.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;
import io.corral.spi.FilesProvider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Files on the local disk ({@code inline::localfs}, as Llama Stack names it): each upload is {@code <id>} (its
 * bytes) and {@code <id>.json} (what is known of it, and whose it is) in one folder. An upload is written to a temporary file
 * and moved into place, so a file is either whole or absent, even across a crash.
 */
public final class LocalFilesProvider implements FilesProvider {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@code <id>.json} holds. */
    record Stored(FileInfo info, String tenant) {
    }

    private final Path dir;
    private final Clock clock;

    public LocalFilesProvider(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new EngineException("cannot create the files folder " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public FileInfo upload(String tenant, String filename, String purpose, Long expiresAfter, InputStream content) {
        if (filename == null || filename.isBlank()) {
            throw new InvalidRequestException("file", "a file needs a name");
        }
        if (purpose == null || purpose.isBlank()) {
            throw new InvalidRequestException("purpose", "purpose is required");
        }
        String id = "file-" + UUID.randomUUID().toString().replace("-", "");
        try {
            Path tmp = Files.createTempFile(dir, ".upload-", ".part");
            try {
                long bytes = Files.copy(content, tmp, StandardCopyOption.REPLACE_EXISTING);
                long now = clock.millis() / 1000;
                FileInfo info = new FileInfo(id, filename, purpose, bytes, now, expiresAfter == null ? null : now + expiresAfter);
                Path meta = Files.createTempFile(dir, ".upload-", ".json");
                JSON.writeValue(meta.toFile(), new Stored(info, tenant));
                Files.move(tmp, dir.resolve(id), StandardCopyOption.ATOMIC_MOVE);
                Files.move(meta, dir.resolve(id + ".json"), StandardCopyOption.ATOMIC_MOVE); // listed once whole
                return info;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new EngineException("cannot store " + filename + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<FileInfo> list(String tenant, String purpose) {
        List<FileInfo> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().matches("file-[0-9a-f]+\\.json")).toList()) {
                read(p, tenant).filter(i -> purpose == null || i.purpose().equals(purpose)).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new EngineException("cannot list the files: " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingLong(FileInfo::createdAt).reversed().thenComparing(FileInfo::id));
        return out;
    }

    /** The file's info when it is {@code tenant}'s. */
    private Optional<FileInfo> read(Path meta, String tenant) {
        try {
            Stored s = JSON.readValue(meta.toFile(), Stored.class);
            if (s.info().expiresAt() != null && s.info().expiresAt() <= clock.millis() / 1000) {
                remove(s.info().id()); // expired: gone for everyone, and its bytes with it
                return Optional.empty();
            }
            return java.util.Objects.equals(s.tenant(), tenant) ? Optional.of(s.info()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // removed meanwhile
        }
    }

    private static boolean valid(String id) {
        return id != null && id.matches("file-[0-9a-f]{32}");
    }

    @Override
    public Optional<FileInfo> get(String tenant, String id) {
        return valid(id) ? read(dir.resolve(id + ".json"), tenant) : Optional.empty();
    }

    @Override
    public Optional<InputStream> content(String tenant, String id) {
        if (get(tenant, id).isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.newInputStream(dir.resolve(id)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean delete(String tenant, String id) {
        if (!valid(id) || get(tenant, id).isEmpty()) {
            return false; // none, or another tenant's
        }
        return remove(id);
    }

    private boolean remove(String id) {
        try {
            boolean listed = Files.deleteIfExists(dir.resolve(id + ".json")); // unlisted first: never half there
            return Files.deleteIfExists(dir.resolve(id)) || listed;
        } catch (IOException e) {
            throw new EngineException("cannot delete " + id + ": " + e.getMessage(), e);
        }
    }

    /** Copies each listed file, its bytes before what is known of it (an upload under way is left out). */
    @Override
    public void backup(Path target) {
        try {
            Files.createDirectories(target);
            try (var files = Files.list(dir)) {
                for (Path meta : files.filter(f -> f.getFileName().toString().matches("file-[0-9a-f]+\\.json")).toList()) {
                    String id = meta.getFileName().toString().replace(".json", "");
                    try {
                        Files.copy(dir.resolve(id), target.resolve(id), StandardCopyOption.REPLACE_EXISTING);
                        Files.copy(meta, target.resolve(id + ".json"), StandardCopyOption.REPLACE_EXISTING);
                    } catch (java.nio.file.NoSuchFileException deleted) {
                        Files.deleteIfExists(target.resolve(id)); // deleted meanwhile: not in the copy
                    }
                }
            }
        } catch (IOException e) {
            throw new io.corral.api.EngineException("cannot back up the files to " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        // nothing held open
    }
}

package io.corral.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;

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
 * Files on the local disk ({@code inline::localfs}, as Llama Stack names it): each upload's bytes are a file
 * {@code <id>} in one folder, written to a temporary file and moved into place, so they are whole or absent even
 * across a crash; what is known of it (name, purpose, size, expiry, whose it is) is a record in a
 * {@link KeyValueStore} under {@code files/<id>}, written once the bytes are in place: the server's state store
 * (SQLite, or PostgreSQL when configured), or, standing alone, a SQLite file {@code metadata.db} in the folder.
 * Records of an older Corral ({@code <id>.json} beside the bytes) are taken into the store on opening.
 */
public final class LocalFilesProvider implements FilesProvider {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "files/";

    /** What a file's record holds. */
    record Stored(FileInfo info, String tenant) {
    }

    private final Path dir;
    private final KeyValueStore records;
    private final boolean ownsRecords;
    private final Clock clock;

    /** Standing alone: records in {@code metadata.db} in the folder. */
    public LocalFilesProvider(Path dir, Clock clock) {
        this(dir, null, clock);
    }

    /** Records in {@code records} (the caller closes it), or, when null, in {@code metadata.db} in the folder. */
    public LocalFilesProvider(Path dir, KeyValueStore records, Clock clock) {
        this.dir = dir;
        this.clock = clock;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new EngineException("cannot create the files folder " + dir + ": " + e.getMessage(), e);
        }
        this.ownsRecords = records == null;
        this.records = records != null ? records : SqlKeyValueStore.sqlite(dir.resolve("metadata.db"), clock);
        adoptSidecars();
    }

    /** Takes records kept beside the bytes ({@code <id>.json}, before they were in the store) into the store. */
    private void adoptSidecars() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path meta : files.filter(f -> f.getFileName().toString().matches("file-[0-9a-f]+\\.json")).toList()) {
                Stored s = JSON.readValue(meta.toFile(), Stored.class);
                put(s);
                Files.delete(meta);
            }
        } catch (IOException e) {
            throw new EngineException("cannot read the files' records in " + dir + ": " + e.getMessage(), e);
        }
    }

    private void put(Stored s) throws IOException {
        Long expires = s.info().expiresAt();
        records.set(PREFIX + s.info().id(), JSON.writeValueAsString(s), expires == null ? null : java.time.Instant.ofEpochSecond(expires));
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
                Files.move(tmp, dir.resolve(id), StandardCopyOption.ATOMIC_MOVE);
                put(new Stored(info, tenant)); // listed once whole
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
        for (var e : records.prefix(PREFIX)) {
            read(e.getValue(), tenant).filter(i -> purpose == null || i.purpose().equals(purpose)).ifPresent(out::add);
        }
        out.sort(Comparator.comparingLong(FileInfo::createdAt).reversed().thenComparing(FileInfo::id));
        return out;
    }

    /** The file's info when it is {@code tenant}'s (an expired one's record is gone already). */
    private Optional<FileInfo> read(String record, String tenant) {
        try {
            Stored s = JSON.readValue(record, Stored.class);
            if (s.info().expiresAt() != null && s.info().expiresAt() <= clock.millis() / 1000) {
                remove(s.info().id()); // expired: gone for everyone, and its bytes with it
                return Optional.empty();
            }
            return java.util.Objects.equals(s.tenant(), tenant) ? Optional.of(s.info()) : Optional.empty();
        } catch (IOException e) {
            throw new EngineException("a file's record is not readable: " + e.getMessage(), e);
        }
    }

    private static boolean valid(String id) {
        return id != null && id.matches("file-[0-9a-f]{32}");
    }

    @Override
    public Optional<FileInfo> get(String tenant, String id) {
        if (!valid(id)) {
            return Optional.empty();
        }
        Optional<String> record = records.get(PREFIX + id);
        if (record.isEmpty()) {
            deleteBytes(id); // expired (the store forgot it) or never recorded: its bytes go too
            return Optional.empty();
        }
        return read(record.get(), tenant);
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
        boolean listed = records.delete(PREFIX + id); // unlisted first: never half there
        return deleteBytes(id) || listed;
    }

    private boolean deleteBytes(String id) {
        try {
            return Files.deleteIfExists(dir.resolve(id));
        } catch (IOException e) {
            throw new EngineException("cannot delete " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies the bytes of every recorded file; standing alone, its records too ({@code metadata.db}); with the
     * server's state store, the records are in that store's backup, taken before this copy.
     */
    @Override
    public void backup(Path target) {
        try {
            Files.createDirectories(target);
            for (var e : records.prefix(PREFIX)) {
                String id = e.getKey().substring(PREFIX.length());
                try {
                    Files.copy(dir.resolve(id), target.resolve(id), StandardCopyOption.REPLACE_EXISTING);
                } catch (java.nio.file.NoSuchFileException deleted) {
                    // deleted meanwhile: not in the copy
                }
            }
            if (ownsRecords) {
                records.backup(target.resolve("metadata.db"));
            }
        } catch (IOException e) {
            throw new io.corral.api.EngineException("cannot back up the files to " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (ownsRecords) {
            records.close();
        }
    }
}

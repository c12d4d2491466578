package io.corral.retrieval;

import io.corral.api.NotFoundException;
import io.corral.spi.FilesProvider;
import io.corral.spi.VectorStores;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps a vector store in step with a folder (a knowledge folder of the distribution config, or
 * {@code corral ingest}): each file is uploaded and added with its relative {@code path} and content
 * {@code sha256} as attributes; at the next sync a file whose content is unchanged is left alone (not embedded
 * again), a changed one replaces its old version, and one no longer in the folder leaves the store. Hidden
 * files are skipped, and symbolic links that lead out of the folder are not followed.
 */
public final class FolderSync {

    public static final String PATH = "path", SHA256 = "sha256";

    /** What one sync did. */
    public record Summary(int added, int changed, int removed, int unchanged, List<String> skipped) {
    }

    /** Where a sync writes: a store reached directly or through a server's API. */
    public interface Target {
        /** The store's files: their ids and attributes. */
        List<VectorStores.StoreFile> files();

        /** Uploads a file, returning its id. */
        String upload(String filename, byte[] content);

        void add(String fileId, Map<String, Object> attributes);

        /** Takes the file out of the store and deletes the upload. */
        void remove(String fileId);
    }

    /** A store of this process's {@link VectorStores}, files uploaded to {@code files}, as {@code tenant}. */
    public static Target direct(VectorStores stores, FilesProvider files, String tenant, String storeId, VectorStores.Chunking chunking) {
        return new Target() {
            @Override
            public List<VectorStores.StoreFile> files() {
                return stores.files(tenant, storeId, null);
            }

            @Override
            public String upload(String filename, byte[] content) {
                return files.upload(tenant, filename, "assistants", null, new ByteArrayInputStream(content)).id();
            }

            @Override
            public void add(String fileId, Map<String, Object> attributes) {
                stores.addFile(tenant, storeId, fileId, attributes, chunking);
            }

            @Override
            public void remove(String fileId) {
                try {
                    stores.removeFile(tenant, storeId, fileId);
                } catch (NotFoundException e) {
                    // gone already
                }
                files.delete(tenant, fileId);
            }
        };
    }

    private FolderSync() {
    }

    /** Brings the store in step with {@code folder}. */
    public static Summary sync(Path folder, Target target) throws IOException {
        Path root = folder.toRealPath();
        Map<String, Path> found = new TreeMap<>();
        List<String> skipped = new java.util.ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return !dir.equals(root) && dir.getFileName().toString().startsWith(".") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String rel = root.relativize(file).toString().replace('\\', '/');
                if (file.getFileName().toString().startsWith(".")) {
                    return FileVisitResult.CONTINUE;
                }
                if (attrs.isSymbolicLink()) {
                    Path real;
                    try {
                        real = file.toRealPath();
                    } catch (IOException e) {
                        skipped.add(rel + " (a broken link)");
                        return FileVisitResult.CONTINUE;
                    }
                    if (!real.startsWith(root) || !Files.isRegularFile(real)) {
                        skipped.add(rel + " (a link out of the folder)");
                        return FileVisitResult.CONTINUE;
                    }
                } else if (!attrs.isRegularFile()) {
                    return FileVisitResult.CONTINUE;
                }
                found.put(rel, file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                skipped.add(root.relativize(file) + " (" + e.getMessage() + ")");
                return FileVisitResult.CONTINUE;
            }
        });
        Map<String, VectorStores.StoreFile> held = new HashMap<>();
        for (VectorStores.StoreFile f : target.files()) {
            if (f.attributes().get(PATH) instanceof String p) {
                VectorStores.StoreFile old = held.put(p, f);
                if (old != null) {
                    target.remove(old.id()); // two versions of one path: keep one
                }
            }
        }
        int added = 0, changed = 0, unchanged = 0, removed = 0;
        for (var e : found.entrySet()) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(e.getValue());
            } catch (IOException ex) {
                skipped.add(e.getKey() + " (" + ex.getMessage() + ")");
                continue;
            }
            String sha = sha256(bytes);
            VectorStores.StoreFile old = held.remove(e.getKey());
            if (old != null && sha.equals(old.attributes().get(SHA256))) {
                unchanged++;
                continue;
            }
            String id = target.upload(e.getKey(), bytes);
            target.add(id, Map.of(PATH, e.getKey(), SHA256, sha));
            if (old != null) {
                target.remove(old.id());
                changed++;
            } else {
                added++;
            }
        }
        for (VectorStores.StoreFile gone : held.values()) {
            target.remove(gone.id());
            removed++;
        }
        return new Summary(added, changed, removed, unchanged, List.copyOf(skipped));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

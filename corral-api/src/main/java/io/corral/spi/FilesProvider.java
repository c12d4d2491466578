package io.corral.spi;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Uploaded files ({@link Api#FILES}), as OpenAI's Files API and Llama Stack's files API keep them: the bytes
 * and what is known of them. Retrieval reads them into vector stores; agents cite them. Every call names its
 * {@code tenant}: whose files they are (a server's API key stands for one); a file is seen only by its own
 * tenant, and null is the one shared tenant of a server without keys. An expired file is gone for every call.
 */
public interface FilesProvider extends AutoCloseable {

    /**
     * What is known of a file.
     *
     * @param id        {@code file-...}
     * @param bytes     its size
     * @param createdAt seconds since the epoch
     * @param purpose   what it was uploaded for ({@code assistants}, {@code batch}, {@code user_data}, ...)
     * @param expiresAt seconds since the epoch after which the file is gone, or null for never
     */
    record FileInfo(String id, String filename, String purpose, long bytes, long createdAt, Long expiresAt) {
    }

    /** Stores {@code content} (read to its end) under a new id; it expires {@code expiresAfter} seconds after now (null: never). */
    FileInfo upload(String tenant, String filename, String purpose, Long expiresAfter, InputStream content);

    /** The files, newest first; {@code purpose} null for all. */
    List<FileInfo> list(String tenant, String purpose);

    /** The file, when it is {@code tenant}'s. */
    Optional<FileInfo> get(String tenant, String id);

    /** The file's bytes (the caller closes the stream), or empty when there is no such file. */
    Optional<InputStream> content(String tenant, String id);

    /** Removes the file; false when there was none. */
    boolean delete(String tenant, String id);

    /** Copies every file and what is known of it into {@code dir} (an embedded provider; others refuse). */
    default void backup(java.nio.file.Path dir) {
        throw new io.corral.api.InvalidRequestException("path", getClass().getSimpleName() + " is backed up with its own tools");
    }

    @Override
    void close();
}

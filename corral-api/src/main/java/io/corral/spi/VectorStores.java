package io.corral.spi;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Vector stores as OpenAI's API and Llama Stack's vector_io serve them: named collections of files, each
 * file read, chunked and embedded in the background (status {@code in_progress}, then {@code completed} or
 * {@code failed} with its last error), searched by vector, keyword or both. Implemented by the retrieval
 * module over a {@link VectorIoProvider}, a {@link FilesProvider} and a {@link KeyValueStore}; the server's
 * routes and the agents' {@code file_search} call it. Every call names its {@code tenant} as
 * {@link FilesProvider} does: a store is seen only by its own. A store or file that is not there (or not the
 * tenant's) is an {@link io.corral.api.NotFoundException}.
 */
public interface VectorStores extends AutoCloseable {

    /**
     * How files are cut into chunks: {@code auto} (paragraph and sentence boundaries, about 200 words with 15 %
     * overlap, within the embedding model's input) or {@code static} with OpenAI's token sizes.
     */
    record Chunking(boolean auto, int maxChunkTokens, int overlapTokens) {
        public static final Chunking AUTO = new Chunking(true, 256, 38);

        public Chunking {
            if (!auto) {
                if (maxChunkTokens < 100 || maxChunkTokens > 4096) {
                    throw new io.corral.api.InvalidRequestException("chunking_strategy",
                            "max_chunk_size_tokens must be between 100 and 4096");
                }
                if (overlapTokens < 0 || overlapTokens > maxChunkTokens / 2) {
                    throw new io.corral.api.InvalidRequestException("chunking_strategy",
                            "chunk_overlap_tokens must be between 0 and half of max_chunk_size_tokens");
                }
            }
        }

        public static Chunking fixed(int maxChunkTokens, int overlapTokens) {
            return new Chunking(false, maxChunkTokens, overlapTokens);
        }
    }

    record FileCounts(int inProgress, int completed, int failed, int cancelled) {
        public int total() {
            return inProgress + completed + failed + cancelled;
        }
    }

    /**
     * A store.
     *
     * @param status       {@code expired}, {@code in_progress} (some file is) or {@code completed}
     * @param expiresAfterDays days after its last activity that it expires, or null for never
     */
    record Store(String id, String name, long createdAt, Map<String, Object> metadata, Integer expiresAfterDays,
                 Long expiresAt, long lastActiveAt, String embeddingModel, int dimension, String providerId,
                 FileCounts fileCounts, long usageBytes, String status) {
    }

    record LastError(String code, String message) {
    }

    /** A file in a store; {@code status} is {@code in_progress}, {@code completed}, {@code failed} or {@code cancelled}. */
    record StoreFile(String id, String storeId, String filename, long createdAt, String status, long usageBytes,
                     Map<String, Object> attributes, Chunking chunking, LastError lastError) {
    }

    record Batch(String id, String storeId, long createdAt, String status, FileCounts fileCounts) {
    }

    /** What creating a store takes; any may be null ({@code id}: a new one is made). */
    record NewStore(String id, String name, List<String> fileIds, Chunking chunking, Map<String, Object> metadata,
                    Integer expiresAfterDays, String embeddingModel, Integer dimension, String providerId) {
        public NewStore(String name, List<String> fileIds, Chunking chunking, Map<String, Object> metadata,
                        Integer expiresAfterDays, String embeddingModel, Integer dimension, String providerId) {
            this(null, name, fileIds, chunking, metadata, expiresAfterDays, embeddingModel, dimension, providerId);
        }
    }

    /** A search: the queries (joined), a filter on attributes (or null), how many results, how they are ranked. */
    record Search(List<String> queries, Filter filter, int maxResults, VectorIoProvider.Mode mode, Ranker ranker,
                  double scoreThreshold) {
        public Search {
            queries = List.copyOf(queries);
            Objects.requireNonNull(mode, "mode");
            if (maxResults < 1 || maxResults > 50) {
                throw new io.corral.api.InvalidRequestException("max_num_results", "max_num_results must be between 1 and 50");
            }
        }
    }

    record Result(String fileId, String filename, double score, Map<String, Object> attributes, String text) {
    }

    /**
     * A chunk put into a store as it is (Llama Stack's {@code vector-io} insert), not cut from a file: its id (the same
     * id again replaces it), its text, the metadata a model may be shown and the metadata only the store reads
     * ({@code chunk_metadata}), both JSON objects as given, its embedding (null: the store's model embeds the text) and
     * the model that made it.
     */
    record EmbeddedChunk(String id, String content, Map<String, Object> metadata, Map<String, Object> chunkMetadata,
                         float[] embedding, String embeddingModel) {
        public EmbeddedChunk {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(content, "content");
            metadata = metadata == null ? Map.of() : metadata;
            chunkMetadata = chunkMetadata == null ? Map.of() : chunkMetadata;
        }
    }

    /**
     * A query for chunks (Llama Stack's {@code vector-io} query): the text, how many chunks at most, the mode, the
     * lowest score kept and how hybrid results are fused.
     */
    record ChunkQuery(String text, int maxChunks, VectorIoProvider.Mode mode, double scoreThreshold, Ranker ranker) {
        public ChunkQuery {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(mode, "mode");
            if (maxChunks < 1 || maxChunks > 1000) {
                throw new io.corral.api.InvalidRequestException("params.max_chunks", "max_chunks must be between 1 and 1000");
            }
        }
    }

    /** A chunk found by {@link #queryChunks}, with its embedding, and its score. */
    record ScoredChunk(EmbeddedChunk chunk, double score) {
    }

    /** A file's text as its store holds it: its chunks in order. */
    record Content(String fileId, String filename, Map<String, Object> attributes, List<String> chunks) {
    }

    Store create(String tenant, NewStore request);

    /** The tenant's stores, newest first. */
    List<Store> list(String tenant);

    Store get(String tenant, String storeId);

    /** Changes what is not null of name, metadata and expiry ({@code expiresAfterDays} 0: never). */
    Store update(String tenant, String storeId, String name, Map<String, Object> metadata, Integer expiresAfterDays);

    void delete(String tenant, String storeId);

    /** Adds an uploaded file to the store; it is read and embedded in the background. */
    StoreFile addFile(String tenant, String storeId, String fileId, Map<String, Object> attributes, Chunking chunking);

    /** The store's files, newest first; {@code status} null for all. */
    List<StoreFile> files(String tenant, String storeId, String status);

    StoreFile file(String tenant, String storeId, String fileId);

    StoreFile updateFile(String tenant, String storeId, String fileId, Map<String, Object> attributes);

    /** Takes the file out of the store (the uploaded file stays). */
    void removeFile(String tenant, String storeId, String fileId);

    Content content(String tenant, String storeId, String fileId);

    Batch createBatch(String tenant, String storeId, List<String> fileIds, Map<String, Object> attributes, Chunking chunking);

    Batch batch(String tenant, String storeId, String batchId);

    /** Stops the batch's files that have not been read yet (they are {@code cancelled}). */
    Batch cancelBatch(String tenant, String storeId, String batchId);

    List<StoreFile> batchFiles(String tenant, String storeId, String batchId, String status);

    /**
     * Searches the store: its completed files' chunks and the chunks put in whole; a chunk put in whole answers with the
     * {@code file_id} and {@code filename} of its metadata, or empty ones.
     */
    List<Result> search(String tenant, String storeId, Search search);

    /**
     * Puts chunks into the store as they are, embedding those given without an embedding by the store's model; durable
     * when this returns. An embedding whose dimension is not the store's is refused, and the call stores nothing.
     */
    void insertChunks(String tenant, String storeId, List<EmbeddedChunk> chunks);

    /**
     * Puts a document into the store (Llama Stack's rag-tool insert): its text cut by {@code chunking} (null: the
     * default), each piece embedded by the store's model, with the document's metadata and its id ({@code document_id});
     * the document's earlier chunks are replaced. Durable when this returns.
     */
    void insertDocument(String tenant, String storeId, String documentId, String text, Map<String, Object> metadata, Chunking chunking);

    /** The chunks that best match the query, best first: those put in whole and those of completed files. */
    List<ScoredChunk> queryChunks(String tenant, String storeId, ChunkQuery query);

    /**
     * Writes a consistent copy of the embedded state while serving into the new folder {@code dir}: the records
     * ({@code kvstore.db}), the uploaded files ({@code files/}) and each vector_io provider's stores
     * ({@code vector_io/} for the default one, {@code vector_io-ID/} for others), laid out as the cache folder is,
     * so a server started on a copy of it finds every file completed at the time of the backup.
     */
    void backup(java.nio.file.Path dir);

    @Override
    void close();
}

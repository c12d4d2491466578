package io.corral.spi;

import java.util.List;
import java.util.Map;

/**
 * Vector stores ({@link Api#VECTOR_IO}): chunks of text with their embeddings, searched by vector, by keyword
 * (BM25) or both (hybrid, fused by reciprocal rank), as Llama Stack's vector_io and OpenAI's vector stores do.
 */
public interface VectorIoProvider extends AutoCloseable {

    /** A piece of a document; {@code embedding} may be null where the store embeds it. */
    record Chunk(String id, String content, Map<String, Object> metadata, float[] embedding) {
    }

    record Hit(Chunk chunk, double score) {
    }

    enum Mode { VECTOR, KEYWORD, HYBRID }

    void createStore(String storeId, int dimension);

    void deleteStore(String storeId);

    /** Adds chunks, replacing those with the same id. */
    void insert(String storeId, List<Chunk> chunks);

    /** The {@code k} best chunks for {@code text} (and its {@code embedding}, for vector and hybrid search) matching {@code filters}. */
    List<Hit> query(String storeId, String text, float[] embedding, Mode mode, int k, Map<String, Object> filters);

    @Override
    void close();
}

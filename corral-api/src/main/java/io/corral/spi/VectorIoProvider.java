package io.corral.spi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where vector stores keep their chunks ({@link Api#VECTOR_IO}): pieces of text with their embeddings and
 * attributes, searched by vector, by keyword (BM25) or both (hybrid, fused by a {@link Ranker}), as Llama
 * Stack's vector_io providers do. What a store is for (its files, their status, chunking, embedding) is the
 * vector stores service's; a provider only keeps and finds chunks. Safe from any thread.
 */
public interface VectorIoProvider extends AutoCloseable {

    /** A piece of a document: its text, its attributes (strings, numbers, booleans) and its embedding. */
    record Chunk(String id, String content, Map<String, Object> metadata, float[] embedding) {
        public Chunk {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(content, "content");
            metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        }
    }

    record Hit(Chunk chunk, double score) {
    }

    enum Mode { VECTOR, KEYWORD, HYBRID }

    /**
     * A search: the {@code k} best chunks matching {@code filter} (null: all) for {@code text} (keyword and
     * hybrid) and {@code embedding} (vector and hybrid), hybrid results fused by {@code ranker}; with {@code vectors}
     * each hit's chunk carries its embedding (otherwise null: reading them costs a store time).
     */
    record Query(String text, float[] embedding, Mode mode, int k, Filter filter, Ranker ranker, boolean vectors) {
        public Query {
            Objects.requireNonNull(mode, "mode");
            ranker = ranker == null ? Ranker.DEFAULT : ranker;
            if (mode != Mode.KEYWORD && embedding == null) {
                throw new IllegalArgumentException(mode + " search needs the query's embedding");
            }
        }

        /** A search whose hits come without their chunks' embeddings. */
        public Query(String text, float[] embedding, Mode mode, int k, Filter filter, Ranker ranker) {
            this(text, embedding, mode, k, filter, ranker, false);
        }

        /** The same search, its hits carrying their chunks' embeddings. */
        public Query withVectors() {
            return new Query(text, embedding, mode, k, filter, ranker, true);
        }
    }

    /**
     * Words keyword search ignores (English function words, beyond Lucene's short default list): retrieval
     * queries are mostly questions ("what are the problems of ..."), whose question and helper words match
     * everywhere and only add noise; on Cranfield this list took BM25's nDCG@10 from 0.359 to 0.365. Every store
     * analyzes text as English (possessives, lower case, these stop words, Porter's stemmer).
     */
    List<String> STOP_WORDS = List.of(
            "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
            "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
            "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
            "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
            "itself", "just", "may", "me", "might", "more", "most", "must", "my", "myself", "no", "nor", "not", "now", "of",
            "off", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "same",
            "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves",
            "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was",
            "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
            "your", "yours", "yourself", "yourselves");

    /** Makes store {@code storeId} for vectors of {@code dimension}; nothing when it exists already. */
    void createStore(String storeId, int dimension);

    /** Removes the store and its chunks; nothing when there is none. */
    void deleteStore(String storeId);

    /** Adds chunks, replacing those with the same id. Searchable at once; durable after {@link #flush}. */
    void insert(String storeId, List<Chunk> chunks);

    /** Removes the chunks matching {@code filter}. */
    void delete(String storeId, Filter filter);

    /** Makes every insert and delete before it durable: after a crash they are there. */
    void flush(String storeId);

    List<Hit> query(String storeId, Query query);

    /** How many chunks the store holds. */
    long count(String storeId);

    /** Hands every chunk of the store, with its embedding, to {@code each} in batches of at most {@code batch} (a migration's read). */
    void scan(String storeId, int batch, java.util.function.Consumer<List<Chunk>> each);

    /**
     * Copies every store as of its last {@link #flush} into {@code dir} (an embedded provider; others refuse).
     * The caller keeps flushes from running meanwhile.
     */
    default void backup(java.nio.file.Path dir) {
        throw new io.corral.api.InvalidRequestException("path", getClass().getSimpleName() + " is backed up with its own tools");
    }

    @Override
    void close();

    /** Something ranked with a score: a chunk, or a store's own handle for one. */
    record Scored<T>(T item, double score) {
    }

    /**
     * Fuses a vector and a keyword result list (each best first) into the {@code k} best, as {@code ranker} says;
     * for stores that search both ways separately. Items are the same when they are equal.
     */
    static <T> List<Scored<T>> fuse(List<Scored<T>> vector, List<Scored<T>> keyword, Ranker ranker, int k) {
        Map<T, Double> scores = new LinkedHashMap<>();
        List<List<Scored<T>>> lists = List.of(vector, keyword);
        for (int l = 0; l < 2; l++) {
            List<Scored<T>> hits = lists.get(l);
            double min = hits.stream().mapToDouble(Scored::score).min().orElse(0);
            double max = hits.stream().mapToDouble(Scored::score).max().orElse(0);
            double weight = ranker.kind() == Ranker.Kind.WEIGHTED ? (l == 0 ? ranker.alpha() : 1 - ranker.alpha()) : 1;
            for (int rank = 0; rank < hits.size(); rank++) {
                Scored<T> h = hits.get(rank);
                double s = switch (ranker.kind()) {
                    case RRF -> 1.0 / (ranker.impactFactor() + rank + 1);
                    case WEIGHTED -> weight * (max > min ? (h.score() - min) / (max - min) : 1.0);
                };
                scores.merge(h.item(), s, Double::sum);
            }
        }
        List<Scored<T>> fused = new ArrayList<>(scores.size());
        scores.forEach((item, score) -> fused.add(new Scored<>(item, score)));
        fused.sort(Comparator.comparingDouble((Scored<T> h) -> h.score()).reversed());
        return fused.size() > k ? List.copyOf(fused.subList(0, k)) : fused;
    }
}

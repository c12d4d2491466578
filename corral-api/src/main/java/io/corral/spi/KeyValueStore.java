package io.corral.spi;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Durable state as keys and values: what agents keep of their sessions and turns, and what the Responses
 * and Conversations stores keep ({@link Api#STORAGE}; Llama Stack's kvstore). Keys are ordered as strings, so
 * a prefix ({@code session:abc:}) is a range. Safe from any thread.
 */
public interface KeyValueStore extends AutoCloseable {

    Optional<String> get(String key);

    /** Stores {@code value}, replacing any; it is gone after {@code expiresAt} (null: it stays). */
    void set(String key, String value, Instant expiresAt);

    default void set(String key, String value) {
        set(key, value, null);
    }

    /** Stores every entry (no expiry), all or none: after a crash either all are there or none is. */
    void setAll(Map<String, String> entries);

    /** Removes {@code key}; false when it was not there. */
    boolean delete(String key);

    /**
     * Stores {@code value} only if {@code key} holds {@code expected} now ({@code expected} null: only if it holds
     * nothing, an expired entry counting as nothing); {@code value} null removes the entry. True when it did: of
     * writers racing on one key with the same {@code expected}, one wins. What {@link Leases} are made of.
     */
    boolean compareAndSet(String key, String expected, String value, Instant expiresAt);

    /**
     * Changes {@code key}'s value by compare-and-set, reading it again when another writer came first (on this node or
     * another sharing the store): {@code f} gets the value as it is now and answers the new one (the same string leaves
     * it). The value stored, or empty when the key holds nothing. For entries without an expiry.
     */
    default Optional<String> change(String key, java.util.function.UnaryOperator<String> f) {
        while (true) {
            Optional<String> now = get(key);
            if (now.isEmpty()) {
                return now;
            }
            String next = f.apply(now.get());
            if (next.equals(now.get()) || compareAndSet(key, now.get(), next, null)) {
                return Optional.of(next);
            }
        }
    }

    /** The entries with {@code start <= key < end}, in key order (expired ones left out). */
    List<Map.Entry<String, String>> range(String start, String end);

    /** The entries whose key starts with {@code prefix}, in key order. */
    default List<Map.Entry<String, String>> prefix(String prefix) {
        return range(prefix, prefix + Character.MAX_VALUE);
    }

    /**
     * Whether other processes may write this store while this one uses it (a database server several Corral nodes
     * share): then what a service keeps in memory of it is read again before it is used.
     */
    default boolean shared() {
        return false;
    }

    /**
     * Writes a consistent copy of the whole store to {@code file} while it is in use (an embedded store; others
     * are backed up with their own tools and refuse).
     */
    default void backup(java.nio.file.Path file) {
        throw new io.corral.api.InvalidRequestException("path", getClass().getSimpleName() + " is backed up with its own tools");
    }

    @Override
    void close();
}

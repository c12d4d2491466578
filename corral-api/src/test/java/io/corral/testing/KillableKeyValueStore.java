package io.corral.testing;

import io.corral.spi.KeyValueStore;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A state store a process writes through until it is killed ({@link #killed}): from then on its writes, lease
 * renewals included, reach nothing, as after {@code kill -9}; reads still answer, for the dead process's threads.
 */
public final class KillableKeyValueStore implements KeyValueStore {

    private final KeyValueStore disk;
    public volatile boolean killed;

    public KillableKeyValueStore(KeyValueStore disk) {
        this.disk = disk;
    }

    @Override
    public Optional<String> get(String key) {
        return disk.get(key);
    }

    @Override
    public void set(String key, String value, Instant expiresAt) {
        if (!killed) {
            disk.set(key, value, expiresAt);
        }
    }

    @Override
    public void setAll(Map<String, String> entries) {
        if (!killed) {
            disk.setAll(entries);
        }
    }

    @Override
    public boolean delete(String key) {
        return !killed && disk.delete(key);
    }

    @Override
    public boolean compareAndSet(String key, String expected, String value, Instant expiresAt) {
        return !killed && disk.compareAndSet(key, expected, value, expiresAt);
    }

    @Override
    public List<Map.Entry<String, String>> range(String start, String end) {
        return disk.range(start, end);
    }

    @Override
    public boolean shared() {
        return disk.shared();
    }

    @Override
    public void close() {
    }
}

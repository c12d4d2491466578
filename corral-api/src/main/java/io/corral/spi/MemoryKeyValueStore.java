package io.corral.spi;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A state store in memory: for what keeps nothing past its process (the library's agents by default), and for tests of
 * what several nodes sharing one store see. Expiry is not kept.
 */
public final class MemoryKeyValueStore implements KeyValueStore {

    private final ConcurrentSkipListMap<String, String> map = new ConcurrentSkipListMap<>();

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(map.get(key));
    }

    @Override
    public void set(String key, String value, Instant expiresAt) {
        map.put(key, value);
    }

    @Override
    public void setAll(Map<String, String> entries) {
        map.putAll(entries);
    }

    @Override
    public boolean delete(String key) {
        return map.remove(key) != null;
    }

    @Override
    public List<Map.Entry<String, String>> range(String start, String end) {
        return new ArrayList<>(map.subMap(start, end).entrySet());
    }

    @Override
    public void close() {
    }
}

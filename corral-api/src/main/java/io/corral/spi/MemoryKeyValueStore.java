package io.corral.spi;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A state store in memory: for what keeps nothing past its process (the library's agents by default), and for tests of
 * what several nodes sharing one store see ({@link #shared(Clock)}).
 */
public final class MemoryKeyValueStore implements KeyValueStore {

    private record Entry(String value, Instant expiresAt) {
    }

    private final ConcurrentSkipListMap<String, Entry> map = new ConcurrentSkipListMap<>();
    private final Clock clock;
    private final boolean shared;

    public MemoryKeyValueStore() {
        this(Clock.systemUTC(), false);
    }

    private MemoryKeyValueStore(Clock clock, boolean shared) {
        this.clock = clock;
        this.shared = shared;
    }

    /** A store that says it is {@link #shared()}, as one several nodes use, reading {@code clock} for expiry. */
    public static MemoryKeyValueStore shared(Clock clock) {
        return new MemoryKeyValueStore(clock, true);
    }

    @Override
    public boolean shared() {
        return shared;
    }

    private boolean live(Entry e) {
        return e != null && (e.expiresAt() == null || e.expiresAt().isAfter(clock.instant()));
    }

    @Override
    public Optional<String> get(String key) {
        Entry e = map.get(key);
        return live(e) ? Optional.of(e.value()) : Optional.empty();
    }

    @Override
    public void set(String key, String value, Instant expiresAt) {
        map.put(key, new Entry(value, expiresAt));
    }

    @Override
    public synchronized void setAll(Map<String, String> entries) {
        entries.forEach((k, v) -> map.put(k, new Entry(v, null)));
    }

    @Override
    public boolean delete(String key) {
        Entry e = map.remove(key);
        return live(e);
    }

    @Override
    public boolean compareAndSet(String key, String expected, String value, Instant expiresAt) {
        Entry next = value == null ? null : new Entry(value, expiresAt);
        while (true) { // the map's own atomic steps, retried when another writer came between the read and the write
            Entry e = map.get(key);
            boolean present = live(e);
            if (expected == null ? present : !present || !e.value().equals(expected)) {
                return false;
            }
            if (e == null ? next == null || map.putIfAbsent(key, next) == null
                    : next == null ? map.remove(key, e) : map.replace(key, e, next)) {
                return true;
            }
        }
    }

    @Override
    public List<Map.Entry<String, String>> range(String start, String end) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        map.subMap(start, end).forEach((k, e) -> {
            if (live(e)) {
                out.add(Map.entry(k, e.value()));
            }
        });
        return out;
    }

    @Override
    public void close() {
    }
}

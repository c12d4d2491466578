package io.corral.testing;

import io.corral.spi.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** What every {@link KeyValueStore} must do; an implementation's test extends this. */
public abstract class KeyValueStoreContract {

    protected final TestClock clock = new TestClock(Instant.parse("2026-11-27T12:00:00Z"));
    protected KeyValueStore store;

    /** A new, empty store reading {@code clock}. */
    protected abstract KeyValueStore open(TestClock clock);

    /** The same store opened again (for durable ones), or null where it keeps nothing. */
    protected abstract KeyValueStore reopen(TestClock clock);

    @BeforeEach
    void openStore() {
        store = open(clock);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void setGetReplaceDelete() {
        assertThat(store.get("a")).isEmpty();
        store.set("a", "1");
        store.set("a", "2");
        assertThat(store.get("a")).contains("2");
        assertThat(store.delete("a")).isTrue();
        assertThat(store.delete("a")).isFalse();
        assertThat(store.get("a")).isEmpty();
        store.set("unicode", "é 猫 \n \"quoted\"");
        assertThat(store.get("unicode")).contains("é 猫 \n \"quoted\"");
    }

    @Test
    void rangesAndPrefixes_areInKeyOrder() {
        for (String k : List.of("session:2:turn:1", "session:1:turn:2", "session:1:turn:1", "session:10", "other")) {
            store.set(k, k.toUpperCase());
        }
        assertThat(store.prefix("session:1:")).extracting(Map.Entry::getKey).containsExactly("session:1:turn:1", "session:1:turn:2");
        assertThat(store.range("session:1", "session:2")).extracting(Map.Entry::getKey) // '0' sorts before ':'
                .containsExactly("session:10", "session:1:turn:1", "session:1:turn:2");
        assertThat(store.prefix("session:1:").getFirst().getValue()).isEqualTo("SESSION:1:TURN:1");
    }

    @Test
    void expiredEntries_areGone() {
        store.set("short", "x", clock.instant().plusSeconds(60));
        store.set("long", "y", clock.instant().plusSeconds(3600));
        assertThat(store.get("short")).contains("x");
        clock.advance(Duration.ofSeconds(61));
        assertThat(store.get("short")).isEmpty();
        assertThat(store.prefix("")).extracting(Map.Entry::getKey).containsExactly("long");
    }

    @Test
    void whatWasWritten_isThereAfterReopening() {
        store.set("k", "v");
        KeyValueStore again = reopen(clock);
        if (again == null) {
            return; // a store that keeps nothing across opens says so by returning null
        }
        try (again) {
            assertThat(again.get("k")).contains("v");
        }
    }

    @Test
    void concurrentWriters_loseNothing() throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        store.set("w:" + thread + ":" + String.format("%03d", i), Integer.toString(i));
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        assertThat(store.prefix("w:")).hasSize(200);
    }

    @Test
    void setAll_storesEveryEntry_replacingAndClearingExpiry() {
        store.set("a", "old", clock.instant().plusSeconds(10));
        store.setAll(new java.util.TreeMap<>(Map.of("a", "1", "b", "2", "c", "3")));
        clock.advance(Duration.ofSeconds(20));
        assertThat(store.prefix("")).extracting(Map.Entry::getKey, Map.Entry::getValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a", "1"), org.assertj.core.groups.Tuple.tuple("b", "2"),
                        org.assertj.core.groups.Tuple.tuple("c", "3"));
        KeyValueStore again = reopen(clock);
        if (again != null) {
            store.close();
            store = again;
            assertThat(store.get("c")).contains("3");
        }
    }

    @Test
    void change_fromManyThreadsAtOnce_losesNoChange() throws Exception {
        store.set("counter", "0");
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 8; i++) {
                pool.submit(() -> {
                    for (int j = 0; j < 25; j++) {
                        store.change("counter", v -> Integer.toString(Integer.parseInt(v) + 1));
                    }
                });
            }
        }
        assertThat(store.get("counter")).contains("200");
        assertThat(store.change("counter", v -> v)).as("unchanged: nothing written").contains("200");
        assertThat(store.change("none", v -> "x")).as("nothing to change").isEmpty();
        assertThat(store.get("none")).isEmpty();
    }

    @Test
    void compareAndSet_writesOnlyOverWhatWasExpected() {
        assertThat(store.compareAndSet("lease", null, "node-a", clock.instant().plusSeconds(30))).isTrue();
        assertThat(store.compareAndSet("lease", null, "node-b", clock.instant().plusSeconds(30))).isFalse();
        assertThat(store.compareAndSet("lease", "node-b", "node-b", clock.instant().plusSeconds(30))).isFalse();
        assertThat(store.get("lease")).contains("node-a");
        assertThat(store.compareAndSet("lease", "node-a", "node-a", clock.instant().plusSeconds(60))).isTrue(); // renewed
        clock.advance(Duration.ofSeconds(45));
        assertThat(store.get("lease")).contains("node-a");
        assertThat(store.compareAndSet("lease", "node-a", null, null)).isTrue(); // released
        assertThat(store.get("lease")).isEmpty();
        assertThat(store.compareAndSet("lease", "node-a", null, null)).isFalse();
        assertThat(store.compareAndSet("lease", null, "node-b", clock.instant().plusSeconds(30))).isTrue();
        clock.advance(Duration.ofSeconds(31));
        // an expired entry is nothing: it matches no value, and an absent one may take its place
        assertThat(store.compareAndSet("lease", "node-b", "node-b", clock.instant().plusSeconds(30))).isFalse();
        assertThat(store.compareAndSet("lease", null, "node-c", null)).isTrue();
        assertThat(store.get("lease")).contains("node-c");
        clock.advance(Duration.ofDays(365));
        assertThat(store.get("lease")).contains("node-c"); // no expiry given: it stays
    }

    @Test
    void compareAndSet_racingWritersOnTwoConnections_oneWinsEachTime() throws Exception {
        KeyValueStore other = reopen(clock);
        KeyValueStore second = other != null ? other : store; // a store that keeps nothing races on its one instance
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            // a counter incremented by compare-and-set from both connections loses no increment
            store.set("counter", "0");
            List<Future<Integer>> tries = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                KeyValueStore mine = t % 2 == 0 ? store : second;
                tries.add(pool.submit(() -> {
                    int attempts = 0;
                    for (int i = 0; i < 25; i++) {
                        while (true) {
                            attempts++;
                            String now = mine.get("counter").orElseThrow();
                            if (mine.compareAndSet("counter", now, Integer.toString(Integer.parseInt(now) + 1), null)) {
                                break;
                            }
                        }
                    }
                    return attempts;
                }));
            }
            for (Future<Integer> f : tries) {
                assertThat(f.get()).isGreaterThanOrEqualTo(25);
            }
            assertThat(store.get("counter")).contains("100");
            // eight nodes asking for one lease at once: one has it
            List<Future<Boolean>> takes = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                KeyValueStore mine = t % 2 == 0 ? store : second;
                String node = "node-" + t;
                takes.add(pool.submit(() -> mine.compareAndSet("lease:x", null, node, clock.instant().plusSeconds(30))));
            }
            int won = 0;
            for (Future<Boolean> f : takes) {
                won += f.get() ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
        } finally {
            if (other != null) {
                other.close();
            }
        }
    }
}

package io.corral.testing;

import io.corral.spi.Leases;
import io.corral.spi.MemoryKeyValueStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A lease is one node's until it gives it up or stops renewing it; over a store nobody shares, it is always granted. */
class LeasesTest {

    private final TestClock clock = new TestClock(Instant.parse("2026-11-28T12:00:00Z"));

    @Test
    void oneNodeHoldsAWork_untilItReleasesIt_orStopsRenewing() {
        MemoryKeyValueStore database = MemoryKeyValueStore.shared(clock);
        Leases a = new Leases(database, clock), b = new Leases(database, clock);
        assertThat(a.take("ingest/s/f")).isTrue();
        assertThat(a.take("ingest/s/f")).isTrue(); // its own: renewed
        assertThat(b.take("ingest/s/f")).isFalse();
        assertThat(a.holds("ingest/s/f")).isTrue();
        assertThat(b.holds("ingest/s/f")).isFalse();

        // renewed every third of its life, it stays A's however long the work runs
        for (int i = 0; i < 10; i++) {
            clock.advance(Leases.TTL.dividedBy(3));
            assertThat(a.renewAll()).isEmpty();
            assertThat(b.take("ingest/s/f")).isFalse();
        }
        a.release("ingest/s/f");
        assertThat(a.holds("ingest/s/f")).isFalse();
        assertThat(b.take("ingest/s/f")).isTrue(); // given up: at once another's

        // B stalls past its lease (a long pause): A takes the work; B's renewal finds it lost
        clock.advance(Leases.TTL.plusSeconds(1));
        assertThat(a.take("ingest/s/f")).isTrue();
        assertThat(b.renewAll()).containsExactly("ingest/s/f");
        assertThat(b.holds("ingest/s/f")).isFalse();
        b.release("ingest/s/f"); // not B's any more: releasing it leaves A's lease alone
        assertThat(b.take("ingest/s/f")).isFalse();

        a.releaseAll();
        assertThat(database.prefix("lease/")).isEmpty();
    }

    @Test
    void overAStoreNobodyShares_everyLeaseIsGranted_soARestartedProcessNeedNotWait() {
        MemoryKeyValueStore own = new MemoryKeyValueStore();
        Leases before = new Leases(own, clock, Duration.ofSeconds(15));
        Leases after = new Leases(own, clock, Duration.ofSeconds(15)); // the killed process's leases would block it
        assertThat(before.take("response/r1")).isTrue();
        assertThat(after.take("response/r1")).isTrue();
        assertThat(own.prefix("")).isEmpty(); // nothing written for them
    }

    /**
     * The keeper renews and takes over until it is stopped; stopping waits for a round under way, so a service that
     * stops its workers next cannot be handed work by it afterwards.
     */
    @Test
    void stopKeeping_waitsForTheRoundUnderWay_andNoneFollows() throws Exception {
        MemoryKeyValueStore database = MemoryKeyValueStore.shared(clock);
        Leases leases = new Leases(database, clock, Duration.ofMillis(30)); // a round every 10 ms
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
        leases.keep("test-keeper", () -> {
            entered.countDown();
            boolean interrupted = false;
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted = true; // a takeover under way finishes its round
                }
            }
            rounds.incrementAndGet();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        });
        entered.await();
        java.util.concurrent.CompletableFuture<Integer> stopped = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            leases.stopKeeping();
            return rounds.get();
        });
        assertThatThrownBy(() -> stopped.get(200, java.util.concurrent.TimeUnit.MILLISECONDS)) // still in its round
                .isInstanceOf(java.util.concurrent.TimeoutException.class);
        release.countDown();
        assertThat(stopped.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1); // returned once the round ended
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("test-keeper"));
        assertThat(rounds.get()).isEqualTo(1);
    }
}

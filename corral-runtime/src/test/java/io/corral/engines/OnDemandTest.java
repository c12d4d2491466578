package io.corral.engines;

import io.corral.api.ChatRequest;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.InferenceProvider;
import io.corral.spi.OnDemandModels;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.corral.testing.ScriptedProvider.answer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Models loaded on first request, kept while used and for their keep-alive after, within a byte budget: a scripted
 * loader, an injected ticker and clock, latches for what runs side by side.
 */
class OnDemandTest {

    static final Instant T0 = Instant.parse("2026-11-28T00:00:00Z");
    final AtomicLong now = new AtomicLong();
    final List<ScriptedProvider> made = new CopyOnWriteArrayList<>();
    final List<String> loads = new CopyOnWriteArrayList<>();
    final Map<String, CountDownLatch> holdLoad = new ConcurrentHashMap<>();

    OnDemand onDemand(Path dir, long budget, Duration loadTimeout) throws Exception {
        Files.write(dir.resolve("a.gguf"), new byte[600]);
        Files.write(dir.resolve("b.gguf"), new byte[500]);
        Files.write(dir.resolve("huge.gguf"), new byte[5000]);
        Map<String, Path> files = Map.of("a", dir.resolve("a.gguf"), "b", dir.resolve("b.gguf"), "huge", dir.resolve("huge.gguf"));
        return new OnDemand(() -> List.of("a", "b", "huge"), n -> Optional.ofNullable(files.get(n)), (name, file) -> {
            CountDownLatch hold = holdLoad.get(name);
            if (hold != null) {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            loads.add(name);
            ScriptedProvider p = ScriptedProvider.chat(name, name).then(answer("hi"));
            made.add(p);
            return p;
        }, Duration.ofMinutes(5), budget, loadTimeout, now::get, Clock.fixed(T0, ZoneOffset.UTC));
    }

    static List<String> names(OnDemand d) {
        return d.loaded().stream().map(OnDemandModels.Loaded::name).toList();
    }

    @Test
    void aModel_isLoadedOnItsFirstRequest_keptWhileUsed_andUnloadedWhenIdlePastKeepAlive(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 10_000, Duration.ZERO);
        assertThat(d.get("unknown")).isNull();
        assertThat(d.names()).containsExactly("a", "b", "huge");
        InferenceProvider a = d.get("a");
        assertThat(loads).containsExactly("a");
        assertThat(d.get("a")).isNotNull();
        assertThat(loads).containsExactly("a"); // loaded once
        TokenStream open = a.stream(ChatRequest.of("x"));
        now.addAndGet(Duration.ofMinutes(10).toNanos());
        d.sweep();
        assertThat(d.loaded()).singleElement().satisfies(l -> {
            assertThat(l.name()).isEqualTo("a");
            assertThat(l.inUse()).isTrue();
            assertThat(l.bytes()).isEqualTo(600);
            assertThat(l.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(5))); // 5 minutes after the request ends
        });
        open.close();
        now.addAndGet(Duration.ofMinutes(4).toNanos());
        d.sweep();
        assertThat(d.loaded()).singleElement().satisfies(l -> {
            assertThat(l.inUse()).isFalse();
            assertThat(l.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(1))); // idle for 4 minutes of 5
        });
        now.addAndGet(Duration.ofMinutes(2).toNanos());
        d.sweep();
        assertThat(d.loaded()).isEmpty();
        assertThat(made.getFirst().closed()).isTrue();
        d.get("a");
        assertThat(loads).containsExactly("a", "a"); // loaded again when asked again
    }

    @Test
    void theBudget_unloadsTheLeastRecentlyUsedIdleModel_orRefusesWhenNoneIsIdleInTime(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 1000, Duration.ZERO);
        InferenceProvider a = d.get("a");
        TokenStream busy = a.stream(ChatRequest.of("x"));
        assertThatThrownBy(() -> d.get("b")).isInstanceOf(UnavailableException.class).hasMessageContaining("needs 500 bytes")
                .hasMessageContaining("while other models answer");
        busy.close();
        now.addAndGet(1);
        d.get("b"); // a is idle now: unloaded to make room
        assertThat(names(d)).containsExactly("b");
        assertThat(made.getFirst().closed()).isTrue();
    }

    @Test
    void aModelLargerThanTheWholeBudget_isRefusedAtOnce(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 1000, Duration.ofHours(1));
        assertThatThrownBy(() -> d.get("huge")).isInstanceOf(UnavailableException.class)
                .hasMessage("model huge needs 5000 bytes, more than the 1000 the server may load at once");
        assertThat(loads).isEmpty();
    }

    @Test
    void aRequestWaitsForRoom_whileTheModelsInTheWayAnswer(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 1000, Duration.ofMinutes(1));
        TokenStream busy = d.get("a").stream(ChatRequest.of("x"));
        CompletableFuture<InferenceProvider> loadedB = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                loadedB.complete(d.get("b"));
            } catch (Throwable t) {
                loadedB.completeExceptionally(t);
            }
        });
        awaitWaiting(loadedB, waiter);
        assertThat(loads).containsExactly("a");
        busy.close(); // a is idle: b's request goes on, a unloaded for it
        loadedB.get(10, TimeUnit.SECONDS);
        assertThat(loads).containsExactly("a", "b");
        assertThat(names(d)).containsExactly("b");
    }

    @Test
    void modelsLoadSideBySide_andOneModelLoadsOnceForConcurrentRequests(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 10_000, Duration.ZERO);
        CountDownLatch releaseA = new CountDownLatch(1);
        holdLoad.put("a", releaseA);
        CompletableFuture<InferenceProvider> a1 = CompletableFuture.supplyAsync(() -> d.get("a"));
        CompletableFuture<InferenceProvider> a2 = CompletableFuture.supplyAsync(() -> d.get("a"));
        assertThat(d.get("b")).isNotNull(); // while a is still loading
        assertThat(loads).containsExactly("b");
        assertThat(names(d)).as("a loading is not listed as loaded").containsExactly("b");
        releaseA.countDown();
        assertThat(a1.get(10, TimeUnit.SECONDS).id()).isEqualTo("a");
        assertThat(a2.get(10, TimeUnit.SECONDS).id()).isEqualTo("a");
        assertThat(loads).containsExactly("b", "a");
    }

    @Test
    void keepAlive_perModel_longerForeverOrZero(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 10_000, Duration.ZERO);
        d.get("a");
        d.get("b");
        d.keepAlive("a", Duration.ofMinutes(30));
        d.keepAlive("b", Duration.ofSeconds(-1));
        now.addAndGet(Duration.ofMinutes(20).toNanos());
        d.sweep();
        assertThat(names(d)).containsExactlyInAnyOrder("a", "b");
        assertThat(d.loaded()).filteredOn(l -> l.name().equals("b")).singleElement()
                .satisfies(l -> assertThat(l.expiresAt()).as("never").isNull());
        now.addAndGet(Duration.ofMinutes(11).toNanos());
        d.sweep();
        assertThat(names(d)).containsExactly("b");
        // zero: unloaded as soon as no request runs on it
        TokenStream open = d.get("b").stream(ChatRequest.of("x"));
        d.keepAlive("b", Duration.ZERO);
        assertThat(names(d)).containsExactly("b");
        open.close();
        assertThat(d.loaded()).isEmpty();
        d.keepAlive("nothing", Duration.ZERO); // not loaded: nothing happens
    }

    @Test
    void unload_now_orWhenTheLastRequestEnds(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 10_000, Duration.ZERO);
        assertThat(d.unload("a")).isFalse();
        d.get("a");
        TokenStream open = d.get("b").stream(ChatRequest.of("x"));
        assertThat(d.unload("a")).isTrue();
        assertThat(d.unload("b")).isTrue();
        assertThat(names(d)).containsExactly("b");
        open.close();
        assertThat(d.loaded()).isEmpty();
        assertThat(made).allSatisfy(p -> assertThat(p.closed()).isTrue());
    }

    /** Until {@code t} waits on the table's lock (it found no room), failing if its request ended instead. */
    private static void awaitWaiting(CompletableFuture<?> request, Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING) {
            assertThat(request).as("the request ended instead of waiting").isNotDone();
            assertThat(System.nanoTime()).as("the request never waited").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }
}

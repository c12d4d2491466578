package io.corral.engines;

import io.corral.api.ChatRequest;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.InferenceProvider;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static io.corral.testing.ScriptedProvider.answer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Models loaded on first request, kept while used and for keep_alive after, within a byte budget (a scripted loader, an injected ticker). */
class OnDemandTest {

    final AtomicLong now = new AtomicLong();
    final List<ScriptedProvider> made = new ArrayList<>();
    final List<String> loads = new ArrayList<>();

    OnDemand onDemand(Path dir, long budget) throws Exception {
        Files.write(dir.resolve("a.gguf"), new byte[600]);
        Files.write(dir.resolve("b.gguf"), new byte[500]);
        Map<String, Path> files = Map.of("a", dir.resolve("a.gguf"), "b", dir.resolve("b.gguf"));
        return new OnDemand(n -> Optional.ofNullable(files.get(n)), (name, file) -> {
            loads.add(name);
            ScriptedProvider p = ScriptedProvider.chat(name, name).then(answer("hi"));
            made.add(p);
            return p;
        }, Duration.ofMinutes(5), budget, now::get);
    }

    @Test
    void aModel_isLoadedOnItsFirstRequest_keptWhileUsed_andUnloadedWhenIdlePastKeepAlive(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 10_000);
        assertThat(d.get("unknown")).isNull();
        InferenceProvider a = d.get("a");
        assertThat(loads).containsExactly("a");
        assertThat(d.get("a")).isNotNull();
        assertThat(loads).containsExactly("a"); // loaded once
        TokenStream open = a.stream(ChatRequest.of("x"));
        now.addAndGet(Duration.ofMinutes(10).toNanos());
        d.sweep();
        assertThat(d.loaded()).containsKey("a"); // in use: kept
        open.close();
        now.addAndGet(Duration.ofMinutes(4).toNanos());
        d.sweep();
        assertThat(d.loaded()).containsKey("a"); // idle for 4 minutes of 5
        now.addAndGet(Duration.ofMinutes(2).toNanos());
        d.sweep();
        assertThat(d.loaded()).isEmpty();
        assertThat(made.getFirst().closed()).isTrue();
        d.get("a");
        assertThat(loads).containsExactly("a", "a"); // loaded again when asked again
    }

    @Test
    void theBudget_unloadsTheLeastRecentlyUsedIdleModel_orRefusesWhenNoneIsIdle(@TempDir Path dir) throws Exception {
        OnDemand d = onDemand(dir, 1000);
        InferenceProvider a = d.get("a");
        TokenStream busy = a.stream(ChatRequest.of("x"));
        assertThatThrownBy(() -> d.get("b")).isInstanceOf(UnavailableException.class).hasMessageContaining("needs 500 bytes");
        busy.close();
        now.addAndGet(1);
        d.get("b"); // a is idle now: unloaded to make room
        assertThat(d.loaded()).containsOnlyKeys("b");
        assertThat(made.getFirst().closed()).isTrue();
    }
}

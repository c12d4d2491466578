package io.corral.telemetry;

import io.corral.spi.Span;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class TimeOrderedIdsTest {

    @Test
    void idsSortAsTheyWereMade_andAreValid() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        TimeOrderedIds ids = new TimeOrderedIds(now::get);
        List<String> traces = new ArrayList<>();
        List<String> spans = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            now.addAndGet(1);
            traces.add(ids.generateTraceId());
            spans.add(ids.generateSpanId());
        }
        assertThat(traces).allMatch(TraceId::isValid).isSorted().doesNotHaveDuplicates();
        assertThat(spans).allMatch(SpanId::isValid).isSorted().doesNotHaveDuplicates();
        assertThat(traces.getFirst()).startsWith(String.format("%012x", 1_800_000_000_001L)); // 12 hex digits: the milliseconds
    }

    @Test
    void spanIdsMadeInOneMillisecond_areDistinct_andTraceIdsEndRandom() {
        TimeOrderedIds ids = new TimeOrderedIds(() -> 1_800_000_000_000L);
        Set<String> spans = new HashSet<>();
        for (int i = 0; i < 1 << 20; i++) {
            spans.add(ids.generateSpanId());
        }
        assertThat(spans).hasSize(1 << 20);
        Set<String> lowHalves = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            lowHalves.add(ids.generateTraceId().substring(16)); // the part the ratio sampler reads
        }
        assertThat(lowHalves).hasSize(1000);
    }

    /** The ratio sampler reads a trace id's lower half: with the time in its upper half, it still keeps the share asked. */
    @Test
    void theRatioSampler_keepsTheShareAsked(@TempDir Path dir) {
        try (Telemetry half = Telemetry.start(TelemetryTest.store(dir, Map.of("OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG", "0.5")))) {
            int kept = 0;
            long before = System.currentTimeMillis();
            for (int i = 0; i < 2000; i++) {
                Span s = half.serverSpan("GET /x", Map.of(), Map.of());
                if (s != Span.NOOP) {
                    kept++;
                }
                s.end();
            }
            long after = System.currentTimeMillis();
            assertThat(kept).isBetween(800, 1200);
            String anId = TelemetryTest.traces(half).getFirst().traceId();
            assertThat(Long.parseLong(anId.substring(0, 12), 16)).isBetween(before, after);
        }
    }
}

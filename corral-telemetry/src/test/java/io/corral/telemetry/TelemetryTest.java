package io.corral.telemetry;

import io.corral.spi.Span;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TelemetryTest {

    static TelemetryConfig store(Path dir, Map<String, String> env) {
        return TelemetryConfig.fromEnvironment(env, dir.resolve("t.db")).withSinks(java.util.Set.of("sqlite"));
    }

    static List<TraceStore.Trace> traces(Telemetry t) {
        t.flush();
        return t.store().queryTraces(null, List.of(), 100, 0, List.of());
    }

    @Test
    void theSampler_recordsTheShareAsked_andFollowsACallersChoice(@TempDir Path dir) {
        try (Telemetry none = Telemetry.start(store(dir, Map.of("OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG", "0")))) {
            Span left = none.serverSpan("GET /x", Map.of(), Map.of());
            assertThat(left).isSameAs(Span.NOOP); // nothing under it builds spans
            left.end();
            assertThat(traces(none)).isEmpty();
            Span sampled = none.serverSpan("GET /y", Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                    Map.of());
            sampled.child("step").end();
            sampled.end();
            assertThat(traces(none)).singleElement().satisfies(t -> assertThat(t.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736"));
        }
    }

    @Test
    void theStore_keepsAtMostItsBound_oldestFirst(@TempDir Path dir) {
        TelemetryConfig c = store(dir, Map.of()).with(Map.of("max_spans", "10"));
        try (Telemetry t = Telemetry.start(c)) {
            for (int i = 0; i < 40; i++) {
                t.serverSpan("GET /" + i, Map.of(), Map.of("n", Integer.toString(i))).end();
                t.flush();
            }
            List<TraceStore.Trace> kept = traces(t);
            assertThat(kept.size()).isBetween(10, 11); // pruned a tenth of the bound at a time
            assertThat(t.store().querySpans(null, List.of(new TraceStore.Condition("n", "eq", "39")), 0, 10)).hasSize(1);
            assertThat(t.store().querySpans(null, List.of(new TraceStore.Condition("n", "eq", "0")), 0, 10)).isEmpty();
        }
    }

    @Test
    void badSettings_areRefused_namingThem() {
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("sinks", "sqlite,kafka"))).hasMessageContaining("kafka");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("sinks", "otel_trace"))).hasMessageContaining("otel_exporter_otlp_endpoint");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("sample_ratio", "2"))).hasMessageContaining("sample_ratio");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("max_spans", "many"))).hasMessage("max_spans must be a number, was 'many'");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("retention_days", "0")))
                .hasMessage("retention_days must be more than 0 and at most 36500, was 0");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("retention_days", "1e18"))).hasMessageStartingWith("retention_days must be");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("retention_days", "1e-20"))) // under a nanosecond
                .hasMessage("retention_days must be more than 0 and at most 36500, was 1e-20");
        assertThatThrownBy(() -> TelemetryConfig.off().with(Map.of("retention_days", "NaN"))).hasMessageStartingWith("retention_days must be");
        assertThat(TelemetryConfig.off().with(Map.of("retention_days", "0.5")).retention()).isEqualTo(java.time.Duration.ofHours(12));
        assertThatThrownBy(() -> TelemetryConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "abc"), null))
                .hasMessage("OTEL_EXPORTER_OTLP_TIMEOUT must be a number, was 'abc'");
        assertThatThrownBy(() -> TelemetryConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://bad host"), null))
                .hasMessageStartingWith("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL");
    }

    /**
     * A store of the earlier schemas (a row per span, with ids the SDK made at random, not time-ordered) is carried
     * over to rows per trace: its traces, spans and trees are found as before, by the trace index, and its old table is
     * gone.
     */
    @Test
    void aStoreOfAnEarlierSchema_isCarriedOver(@TempDir Path dir) throws Exception {
        for (int schema : new int[]{1, 2}) {
            Path old = dir.resolve("v" + schema + ".db");
            try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old); var s = c.createStatement()) {
                s.execute("CREATE TABLE spans (span_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, parent_span_id TEXT, is_root INTEGER NOT NULL,"
                        + " name TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status TEXT NOT NULL, attributes TEXT NOT NULL)");
                s.execute("INSERT INTO spans VALUES ('f1e2d3c4b5a69788', 'aa', NULL, 1, 'GET /', 1, 3, 'OK', '{\"run_id\":\"r1\"}'),"
                        + " ('0b1c2d3e4f506172', 'aa', 'f1e2d3c4b5a69788', 0, 'step', 2, 3, 'ERROR', '{\"n\":2}'),"
                        + " ('9a8b7c6d5e4f3a2b', 'bb', NULL, 1, 'GET /b', 4, 5, 'OK', '{}')");
                s.execute("PRAGMA user_version = " + schema);
            }
            TraceStore store = TraceStore.open(old, 1000, java.time.Duration.ofDays(1));
            try {
                assertThat(store.queryTraces(null, List.of(new TraceStore.Condition("n", "eq", 2)), 10, 0, List.of()))
                        .singleElement().satisfies(t -> {
                            assertThat(t.traceId()).isEqualTo("aa");
                            assertThat(t.rootSpanId()).isEqualTo("f1e2d3c4b5a69788");
                            assertThat(t.startNanos()).isEqualTo(1);
                        });
                assertThat(store.tree("f1e2d3c4b5a69788", -1)).extracting(TraceStore.StoredSpan::spanId)
                        .containsExactly("f1e2d3c4b5a69788", "0b1c2d3e4f506172");
                assertThat(store.span("aa", "0b1c2d3e4f506172")).satisfies(sp -> {
                    assertThat(sp.parentSpanId()).isEqualTo("f1e2d3c4b5a69788");
                    assertThat(sp.status()).isEqualTo("error");
                    assertThat(sp.attributes()).containsEntry("n", 2);
                });
                assertThat(store.querySpans(null, List.of(new TraceStore.Condition("run_id", "eq", "r1")), 0, 10))
                        .extracting(TraceStore.StoredSpan::name).containsExactly("GET /");
                assertThat(store.trace("bb")).isNotNull();
            } finally {
                store.close();
            }
            try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old); var s = c.createStatement()) {
                try (var tables = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                    List<String> names = new java.util.ArrayList<>();
                    while (tables.next()) {
                        names.add(tables.getString(1));
                    }
                    assertThat(names).containsExactly("traces_1");
                }
                try (var plan = s.executeQuery("EXPLAIN QUERY PLAN SELECT spans FROM traces_1 WHERE trace_id = 'aa'")) {
                    StringBuilder b = new StringBuilder();
                    while (plan.next()) {
                        b.append(plan.getString("detail"));
                    }
                    assertThat(b.toString()).contains("USING INDEX traces_1_trace");
                }
            }
        }
    }

    /** A trace whose spans end in two writes (a child before the store's flush, its parent after) is still one trace. */
    @Test
    void aTraceWrittenInTwoParts_isOneTrace(@TempDir Path dir) {
        try (Telemetry t = Telemetry.start(store(dir, Map.of()))) {
            Span request = t.serverSpan("POST /v1/responses", Map.of(), Map.of());
            Span step = request.child("corral.agent.step").set("corral.agent.step", 1);
            step.child("chat tiny").set("gen_ai.usage.output_tokens", 7L).end();
            t.flush();
            step.end();
            request.set("http.response.status_code", 200L).end();
            t.flush();
            List<TraceStore.Trace> found = t.store().queryTraces(null, List.of(new TraceStore.Condition("gen_ai.usage.output_tokens", "gt", 5),
                    new TraceStore.Condition("http.response.status_code", "eq", 200)), 10, 0, List.of());
            assertThat(found).hasSize(1);
            TraceStore.Trace trace = found.getFirst();
            assertThat(t.store().tree(trace.rootSpanId(), -1)).extracting(TraceStore.StoredSpan::name)
                    .containsExactly("POST /v1/responses", "corral.agent.step", "chat tiny");
            assertThat(t.store().tree(trace.rootSpanId(), 1)).hasSize(2);
            String child = t.store().tree(trace.rootSpanId(), -1).get(2).spanId();
            assertThat(t.store().span(trace.traceId(), child).name()).isEqualTo("chat tiny");
            assertThat(t.store().querySpans(null, List.of(new TraceStore.Condition("corral.agent.step", "eq", 1)), 1, 10))
                    .extracting(TraceStore.StoredSpan::name).containsExactly("corral.agent.step", "chat tiny");
        }
    }

    /** Spans past the retention go at the next write, the newest stay; the bound still counts right afterwards. */
    @Test
    void spansPastTheRetention_go_andTheBoundStillHolds(@TempDir Path dir) {
        java.time.Instant now = java.time.Instant.now();
        List<io.opentelemetry.sdk.trace.data.SpanData> ended = spans(i -> i < 3 ? now.minus(java.time.Duration.ofHours(2)) : now, 6);
        TraceStore store = TraceStore.open(dir.resolve("t.db"), 10, java.time.Duration.ofHours(1));
        try {
            assertThat(store.write(ended)).isTrue(); // three two hours old, three new
            assertThat(store.querySpans(null, List.of(), 0, 100)).extracting(sp -> sp.attributes().get("n"))
                    .containsExactlyInAnyOrder(3, 4, 5);
            for (io.opentelemetry.sdk.trace.data.SpanData s : spans(i -> now, 20)) { // one a write
                assertThat(store.write(List.of(s))).isTrue();
            }
            List<TraceStore.StoredSpan> kept = store.querySpans(null, List.of(), 0, 100);
            assertThat(kept.size()).isBetween(10, 11);
            assertThat(kept).extracting(sp -> sp.attributes().get("n")).contains(19).doesNotContain(3, 4, 5, 0, 1, 2);
        } finally {
            store.close();
        }
    }

    /**
     * The newest traces, listed without conditions, are read table by table (newest first) and stop early: the result is
     * still every root ordered by start, newest first, whatever the page, also where a trace that began early ended late
     * (so an older table holds later starts than a newer one).
     */
    @Test
    void theNewestTraces_acrossTables_areThoseOfAFullSort(@TempDir Path dir) {
        java.util.Random random = new java.util.Random(7);
        java.time.Instant base = java.time.Instant.now().minusSeconds(180);
        List<long[]> times = new java.util.ArrayList<>(); // start and end, ms after base
        for (int i = 0; i < 60; i++) {
            long start = random.nextInt(1_000) * 60L + i; // distinct; lasting up to a minute, so ends cross starts
            times.add(new long[]{start, start + random.nextInt(60_000)});
        }
        times.sort(java.util.Comparator.comparingLong(t -> t[1])); // written as they end
        TraceStore store = TraceStore.open(dir.resolve("t.db"), 100, java.time.Duration.ofDays(1)); // tables of 10 spans
        try (var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder().addSpanProcessor(onEnd(s -> assertThat(store.write(List.of(s))).isTrue())).build()) {
            for (long[] t : times) {
                provider.get("test").spanBuilder("GET /").setStartTimestamp(base.plusMillis(t[0])).startSpan().end(base.plusMillis(t[1]));
            }
            List<Long> all = times.stream().map(t -> t[0]).sorted(java.util.Comparator.reverseOrder()).toList();
            long baseNanos = base.getEpochSecond() * 1_000_000_000L + base.getNano();
            for (int[] page : new int[][]{{1, 0}, {5, 0}, {10, 3}, {25, 20}, {100, 0}, {10, 55}, {10, 70}}) {
                assertThat(store.queryTraces(null, List.of(), page[0], page[1], List.of()))
                        .extracting(tr -> (tr.startNanos() - baseNanos) / 1_000_000)
                        .as("limit %d offset %d", page[0], page[1])
                        .containsExactlyElementsOf(all.subList(Math.min(page[1], 60), Math.min(page[0] + page[1], 60)));
            }
        } finally {
            store.close();
        }
    }

    /** A span is found by its id alone: a root, and a child that started seconds after its trace began. */
    @Test
    void aSpansTree_isFound_whenItStartedLongAfterItsTrace(@TempDir Path dir) {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis());
        TraceStore store = TraceStore.open(dir.resolve("t.db"), 1000, java.time.Duration.ofDays(1));
        List<io.opentelemetry.sdk.trace.data.SpanData> ended = new java.util.ArrayList<>();
        try (var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder().setIdGenerator(new TimeOrderedIds(now::get))
                .addSpanProcessor(onEnd(ended::add)).build()) {
            var tracer = provider.get("test");
            for (int i = 0; i < 5; i++) { // others around it
                tracer.spanBuilder("other").startSpan().end();
            }
            var root = tracer.spanBuilder("POST /v1/responses").startSpan();
            now.addAndGet(3_000);
            var late = tracer.spanBuilder("step").setParent(io.opentelemetry.context.Context.root().with(root)).startSpan();
            late.end();
            root.end();
            assertThat(store.write(ended)).isTrue();
            assertThat(store.tree(root.getSpanContext().getSpanId(), -1)).extracting(TraceStore.StoredSpan::name)
                    .containsExactly("POST /v1/responses", "step");
            assertThat(store.tree(late.getSpanContext().getSpanId(), -1)).extracting(TraceStore.StoredSpan::name).containsExactly("step");
        } finally {
            store.close();
        }
    }

    /** A burst of ended spans wakes the store's writer before its interval (here an hour) comes round. */
    @Test
    void aBurstOfSpans_isWritten_beforeTheWritersInterval(@TempDir Path dir) {
        TraceStore store = TraceStore.open(dir.resolve("t.db"), 100_000, java.time.Duration.ofDays(1));
        StoreProcessor processor = new StoreProcessor(store, 3_600_000);
        try (var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder().addSpanProcessor(processor).build()) {
            var tracer = provider.get("test");
            for (int i = 0; i < StoreProcessor.WAKE_AT - 1; i++) {
                tracer.spanBuilder("GET /" + i).startSpan().end();
            }
            assertThat(store.queryTraces(null, List.of(), 1, 0, List.of())).as("below the mark, nothing is written yet").isEmpty();
            tracer.spanBuilder("GET /last").startSpan().end();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (store.queryTraces(null, List.of(), 1, StoreProcessor.WAKE_AT - 1, List.of()).isEmpty()) {
                assertThat(System.nanoTime()).as("the writer never woke").isLessThan(deadline);
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        } finally {
            store.close();
        }
    }

    /** Ended spans of one root each, {@code n} = 0.., started and ended at {@code at(n)}. */
    private static List<io.opentelemetry.sdk.trace.data.SpanData> spans(java.util.function.IntFunction<java.time.Instant> at, int count) {
        List<io.opentelemetry.sdk.trace.data.SpanData> ended = new java.util.ArrayList<>();
        io.opentelemetry.sdk.trace.SpanProcessor collect = onEnd(ended::add);
        try (var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder().addSpanProcessor(collect).build()) {
            var tracer = provider.get("test");
            for (int i = 0; i < count; i++) {
                tracer.spanBuilder("GET /" + i).setStartTimestamp(at.apply(i)).setAttribute("n", (long) i).startSpan()
                        .end(at.apply(i).plusMillis(5));
            }
        }
        return ended;
    }

    /** A span processor that hands each ended span's data to {@code take}. */
    static io.opentelemetry.sdk.trace.SpanProcessor onEnd(java.util.function.Consumer<io.opentelemetry.sdk.trace.data.SpanData> take) {
        return new io.opentelemetry.sdk.trace.SpanProcessor() {
            @Override
            public void onStart(io.opentelemetry.context.Context parent, io.opentelemetry.sdk.trace.ReadWriteSpan span) {
            }

            @Override
            public boolean isStartRequired() {
                return false;
            }

            @Override
            public void onEnd(io.opentelemetry.sdk.trace.ReadableSpan span) {
                take.accept(span.toSpanData());
            }

            @Override
            public boolean isEndRequired() {
                return true;
            }
        };
    }
}

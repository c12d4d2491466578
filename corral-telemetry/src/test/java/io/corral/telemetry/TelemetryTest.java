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
        assertThatThrownBy(() -> TelemetryConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "abc"), null))
                .hasMessage("OTEL_EXPORTER_OTLP_TIMEOUT must be a number, was 'abc'");
        assertThatThrownBy(() -> TelemetryConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://bad host"), null))
                .hasMessageStartingWith("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL");
    }

    /**
     * A span's children are found by an index, in a new store and in one of the first schema (a tree, or query_spans
     * with max_depth, read every span once per level without it: 15 s for one query after a long fuzzing run).
     */
    @Test
    void childrenAreFoundByAnIndex_inANewStoreAndInAnOldOne(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.db");
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old); var s = c.createStatement()) {
            s.execute("CREATE TABLE spans (span_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, parent_span_id TEXT, is_root INTEGER NOT NULL,"
                    + " name TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status TEXT NOT NULL, attributes TEXT NOT NULL)");
            s.execute("INSERT INTO spans VALUES ('a', 't', NULL, 1, 'GET /', 1, 3, 'OK', '{}'), ('b', 't', 'a', 0, 'step', 2, 3, 'OK', '{}')");
            s.execute("PRAGMA user_version = 1");
        }
        for (Path file : List.of(dir.resolve("new.db"), old)) {
            TraceStore.open(file, 1000, java.time.Duration.ofDays(1)).close();
            try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file); var s = c.createStatement();
                 var plan = s.executeQuery("EXPLAIN QUERY PLAN SELECT span_id FROM spans WHERE parent_span_id = 'a'")) {
                StringBuilder b = new StringBuilder();
                while (plan.next()) {
                    b.append(plan.getString("detail"));
                }
                assertThat(b.toString()).as(file.toString()).contains("USING INDEX spans_parent").doesNotContain("SCAN spans");
            }
        }
        TraceStore store = TraceStore.open(old, 1000, java.time.Duration.ofDays(1));
        try {
            assertThat(store.tree("a", -1)).extracting(TraceStore.StoredSpan::spanId).containsExactly("a", "b"); // the data kept
        } finally {
            store.close();
        }
    }
}

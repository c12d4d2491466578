package io.corral.telemetry;

import io.corral.spi.Span;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in trace store's queries over a filled store: {@code requests} one-token chats' spans (three each, one in
 * a thousand with a {@code run_id} in its baggage) written through {@link Telemetry} as the server writes them, then
 * three rounds of query_traces by run_id, query_traces without filters (newest 100), a trace's tree from its root and
 * from a leaf, query_spans by run_id with depth 2, and the tree of the 100th newest trace; prints each in ms.
 *
 * <pre>bench/trace-queries.sh [requests]</pre>
 */
public final class TraceQueryBench {
    public static void main(String[] a) throws Exception {
        Path dir = Files.createTempDirectory("trace-query-bench");
        TelemetryConfig c = TelemetryConfig.defaults(Map.of(), dir.resolve("t.db"));
        Telemetry t = Telemetry.start(c);
        int n = Integer.parseInt(a.length > 0 ? a[0] : "33000");
        for (int i = 0; i < n; i++) {
            Map<String,String> attrs = new LinkedHashMap<>();
            attrs.put("http.request.method", "POST"); attrs.put("url.path", "/v1/chat/completions");
            attrs.put("client.address", "127.0.0.1"); attrs.put("corral.request_id", "req-" + i);
            Map<String,String> h = i % 1000 == 7 ? Map.of("baggage", "run_id=r" + i) : Map.of();
            Span s = t.serverSpan("POST /v1/chat/completions", h, attrs);
            Span at = s.child("corral.router.attempt").set("corral.model", "tiny").set("corral.runner", "local").set("corral.attempt", 1);
            Span g = at.child("chat tiny").set("gen_ai.operation.name", "chat").set("gen_ai.usage.input_tokens", 12).set("gen_ai.usage.output_tokens", 1);
            g.end(); at.end(); s.set("http.response.status_code", 200).end();
            if (i % 500 == 499) t.flush();
        }
        t.flush();
        TraceStore st = t.store();
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            var found = st.queryTraces(null, List.of(new TraceStore.Condition("run_id", "eq", "r" + (n - 993))), 10, 0, List.of());
            long t1 = System.nanoTime();
            var recent = st.queryTraces(null, List.of(), 100, 0, List.of());
            long t2 = System.nanoTime();
            var tree = st.tree(found.get(0).rootSpanId(), -1);
            long t3 = System.nanoTime();
            var leaf = st.tree(tree.get(2).spanId(), -1);
            long t4 = System.nanoTime();
            var spans = st.querySpans(null, List.of(new TraceStore.Condition("run_id", "eq", "r" + (n - 993))), 2, 100);
            long t5 = System.nanoTime();
            var old = st.tree(recent.get(99).rootSpanId(), -1);
            long t6 = System.nanoTime();
            System.out.printf("found %d, recent %d, tree %d, leaf %d, spans %d | queryTraces(run_id) %.1f ms, queryTraces(100) %.1f ms, tree(root) %.2f ms, tree(leaf) %.2f ms, querySpans %.1f ms, tree(recent) %.2f ms%n",
                found.size(), recent.size(), tree.size(), leaf.size(), spans.size(), (t1-t0)/1e6, (t2-t1)/1e6, (t3-t2)/1e6, (t4-t3)/1e6, (t5-t4)/1e6, (t6-t5)/1e6);
        }
        t.close();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }
}

package io.corral.telemetry;

import io.corral.spi.Span;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The built-in trace store's queries over a filled store: {@code requests} one-token chats' spans (three each, one in
 * a thousand with a {@code run_id} in its baggage) written through {@link Telemetry} as the server writes them, then
 * three rounds of query_traces by run_id, query_traces without filters (newest 100), a trace's tree from its root and
 * from a leaf, query_spans by run_id with depth 2, and the tree of the 100th newest trace; prints each in ms.
 *
 * <pre>bench/trace-queries.sh [requests]</pre>
 */
public final class TraceQueryBench {

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args.length > 0 ? args[0] : "33000");
        Path dir = Files.createTempDirectory("trace-query-bench");
        try (Telemetry telemetry = Telemetry.start(TelemetryConfig.defaults(Map.of(), dir.resolve("t.db")))) {
            for (int i = 0; i < requests; i++) {
                Map<String, String> attributes = new LinkedHashMap<>();
                attributes.put("http.request.method", "POST");
                attributes.put("url.path", "/v1/chat/completions");
                attributes.put("client.address", "127.0.0.1");
                attributes.put("corral.request_id", "req-" + i);
                Map<String, String> headers = i % 1000 == 7 ? Map.of("baggage", "run_id=r" + i) : Map.of();
                Span request = telemetry.serverSpan("POST /v1/chat/completions", headers, attributes);
                Span attempt = request.child("corral.router.attempt").set("corral.model", "tiny").set("corral.runner", "local")
                        .set("corral.attempt", 1);
                Span generation = attempt.child("chat tiny").set("gen_ai.operation.name", "chat")
                        .set("gen_ai.usage.input_tokens", 12).set("gen_ai.usage.output_tokens", 1);
                generation.end();
                attempt.end();
                request.set("http.response.status_code", 200).end();
                if (i % 500 == 499) {
                    telemetry.flush();
                }
            }
            telemetry.flush();
            TraceStore store = telemetry.store();
            List<TraceStore.Condition> runId = List.of(new TraceStore.Condition("run_id", "eq", "r" + (requests - 993)));
            for (int round = 0; round < 3; round++) {
                var found = timed("queryTraces(run_id)", () -> store.queryTraces(null, runId, 10, 0, List.of()));
                var recent = timed("queryTraces(100)", () -> store.queryTraces(null, List.of(), 100, 0, List.of()));
                var tree = timed("tree(root)", () -> store.tree(found.getFirst().rootSpanId(), -1));
                timed("tree(leaf)", () -> store.tree(tree.get(2).spanId(), -1));
                timed("querySpans", () -> store.querySpans(null, runId, 2, 100));
                timed("tree(recent)", () -> store.tree(recent.get(99).rootSpanId(), -1));
                System.out.println();
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** Runs the query, prints its time and what it found, and returns it. */
    private static <T extends List<?>> T timed(String name, Callable<T> query) throws Exception {
        long t0 = System.nanoTime();
        T found = query.call();
        System.out.printf("%s %.2f ms (%d) | ", name, (System.nanoTime() - t0) / 1e6, found.size());
        return found;
    }
}

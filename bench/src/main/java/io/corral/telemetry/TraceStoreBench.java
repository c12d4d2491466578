package io.corral.telemetry;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The built-in trace store's write cost per span, for the spans of a forwarded request (the request, the router's
 * attempt, the generation: three spans with the attributes the gateway sets), made with the SDK's random ids and with
 * {@link TimeOrderedIds}, alternated: each round writes {@code requests} requests' spans into a new store with the
 * default bound (100,000 spans, so it prunes as a busy server's does) in batches of 1,000, as {@code StoreProcessor}
 * does. Prints each round and the medians.
 *
 * <pre>bench/trace-store.sh [requests] [rounds]</pre>
 */
public final class TraceStoreBench {

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args.length > 0 ? args[0] : "100000");
        int rounds = Integer.parseInt(args.length > 1 ? args[1] : "3");
        double[] random = new double[rounds];
        double[] ordered = new double[rounds];
        boolean orderedOnly = Boolean.getBoolean("orderedOnly"); // -DorderedOnly=true: the store as it runs, no comparison
        for (int r = 0; r < rounds; r++) {
            random[r] = orderedOnly ? Double.NaN : round(IdGenerator.random(), requests);
            ordered[r] = round(new TimeOrderedIds(System::currentTimeMillis), requests);
            System.out.printf("  round %d: random ids %.2f us/span, time-ordered ids %.2f us/span%n", r + 1, random[r], ordered[r]);
        }
        double a = median(random);
        double b = median(ordered);
        System.out.printf("trace store writes, %d requests (%d spans) a round, median of %d: random ids %.2f us/span, time-ordered "
                + "%.2f us/span: %.1fx less%n", requests, requests * 3, rounds, a, b, a / b);
    }

    private static double round(IdGenerator ids, int requests) throws Exception {
        List<SpanData> ended = new ArrayList<>(requests * 3);
        SpanProcessor collect = new SpanProcessor() {
            @Override
            public void onStart(Context parent, ReadWriteSpan span) {
            }

            @Override
            public boolean isStartRequired() {
                return false;
            }

            @Override
            public void onEnd(ReadableSpan span) {
                ended.add(span.toSpanData());
            }

            @Override
            public boolean isEndRequired() {
                return true;
            }
        };
        try (SdkTracerProvider provider = SdkTracerProvider.builder().setIdGenerator(ids).addSpanProcessor(collect).build()) {
            Tracer tracer = provider.get("io.corral");
            for (int i = 0; i < requests; i++) {
                Span request = tracer.spanBuilder("POST /v1/chat/completions").setSpanKind(SpanKind.SERVER)
                        .setAttribute("http.request.method", "POST").setAttribute("url.path", "/v1/chat/completions")
                        .setAttribute("client.address", "127.0.0.1").setAttribute("corral.request_id", "req-" + i).startSpan();
                Span attempt = tracer.spanBuilder("router.attempt").setParent(Context.root().with(request)).startSpan()
                        .setAttribute("corral.runner", "mock").setAttribute("corral.attempt", 1L);
                Span generation = tracer.spanBuilder("chat gpt-4o-mini").setParent(Context.root().with(attempt)).startSpan()
                        .setAttribute("gen_ai.request.model", "gpt-4o-mini").setAttribute("gen_ai.usage.input_tokens", 12L)
                        .setAttribute("gen_ai.usage.output_tokens", 20L);
                generation.end();
                attempt.setAttribute("corral.outcome", "ok").end();
                request.setAttribute("http.response.status_code", 200L).end();
            }
        }
        Path dir = Files.createTempDirectory("trace-store-bench");
        TraceStore store = TraceStore.open(dir.resolve("traces.db"), 100_000, Duration.ofDays(7));
        long t0 = System.nanoTime();
        for (int i = 0; i < ended.size(); i += 1000) {
            if (!store.write(ended.subList(i, Math.min(ended.size(), i + 1000)))) {
                throw new IllegalStateException("a write failed");
            }
        }
        double perSpan = (System.nanoTime() - t0) / 1e3 / ended.size();
        store.close();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
        return perSpan;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

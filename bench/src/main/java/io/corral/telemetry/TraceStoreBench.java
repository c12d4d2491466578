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
 * The built-in trace store's write cost per span (the writing thread's CPU), for the spans of a one-token chat on the local engine (the request,
 * the router's attempt, the generation: three spans with the 22 attributes the server sets, ~1.2 KB of JSON), made with the SDK's random ids and with
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
            for (int i = 0; i < requests; i++) { // the spans of a one-token chat on the local engine, as the server makes them
                Span request = tracer.spanBuilder("POST /v1/chat/completions").setSpanKind(SpanKind.SERVER)
                        .setAttribute("http.request.method", "POST").setAttribute("url.path", "/v1/chat/completions")
                        .setAttribute("client.address", "127.0.0.1").setAttribute("corral.request_id", Long.toHexString(0x1c8059 + i)).startSpan();
                Span attempt = tracer.spanBuilder("corral.router.attempt").setParent(Context.root().with(request)).startSpan()
                        .setAttribute("corral.model", "stories260K").setAttribute("corral.runner", "llamacpp").setAttribute("corral.attempt", 1L);
                Span generation = tracer.spanBuilder("chat stories260K").setParent(Context.root().with(attempt)).startSpan()
                        .setAttribute("gen_ai.operation.name", "chat").setAttribute("gen_ai.request.model", "stories260K")
                        .setAttribute("gen_ai.provider.name", "llama.cpp");
                generation.setAttribute("gen_ai.response.model", "stories260K").setAttribute("gen_ai.usage.input_tokens", 3L)
                        .setAttribute("gen_ai.usage.output_tokens", 1L).setAttribute("gen_ai.response.finish_reasons", "length")
                        .setAttribute("corral.time_to_first_token_ms", 4.692344 + i % 100 / 1000.0).setAttribute("corral.tokens_per_second", 0.0);
                generation.end();
                attempt.setAttribute("corral.outcome", "served").end();
                request.setAttribute("http.response.status_code", 200L).setAttribute("gen_ai.request.model", "stories260K")
                        .setAttribute("gen_ai.usage.input_tokens", 3L).setAttribute("gen_ai.usage.output_tokens", 1L).end();
            }
        }
        Path dir = Files.createTempDirectory("trace-store-bench");
        TraceStore store = TraceStore.open(dir.resolve("traces.db"), 100_000, Duration.ofDays(7));
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = threads.getCurrentThreadCpuTime(); // the thread's CPU, SQLite's included (it runs on the caller's thread)
        for (int i = 0; i < ended.size(); i += 1000) {
            if (!store.write(ended.subList(i, Math.min(ended.size(), i + 1000)))) {
                throw new IllegalStateException("a write failed");
            }
        }
        double perSpan = (threads.getCurrentThreadCpuTime() - t0) / 1e3 / ended.size();
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

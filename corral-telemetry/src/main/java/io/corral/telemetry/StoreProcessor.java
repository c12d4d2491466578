package io.corral.telemetry;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hands ended spans to the {@link TraceStore} in batches, off the request's thread: queued as they end
 * (at most {@link #MAX_QUEUED}; more are dropped and counted), written every 200 ms, and written at once by
 * {@link #forceFlush()} on the caller's thread, so a query right after a request sees its spans.
 */
final class StoreProcessor implements SpanProcessor {

    static final int MAX_QUEUED = 20_000;

    private final TraceStore store;
    private final ConcurrentLinkedQueue<SpanData> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private final ScheduledExecutorService writer;

    StoreProcessor(TraceStore store) {
        this.store = store;
        this.writer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("corral-trace-store").factory());
        writer.scheduleWithFixedDelay(this::drain, 200, 200, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
    }

    @Override
    public boolean isStartRequired() {
        return false;
    }

    @Override
    public void onEnd(ReadableSpan span) {
        if (!span.getSpanContext().isSampled()) {
            return;
        }
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.add(span.toSpanData());
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    /** Writes what is queued, in batches of up to 1,000 spans. */
    private synchronized void drain() {
        try {
            List<SpanData> batch = new ArrayList<>();
            for (SpanData s; (s = queue.poll()) != null; ) {
                queued.decrementAndGet();
                batch.add(s);
                if (batch.size() == 1000) {
                    store.write(batch);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                store.write(batch);
            }
            int lost = dropped.getAndSet(0);
            if (lost > 0) {
                System.getLogger("corral.telemetry").log(System.Logger.Level.WARNING,
                        lost + " spans were not stored: more ended than the store could take");
            }
        } catch (RuntimeException e) {
            System.getLogger("corral.telemetry").log(System.Logger.Level.WARNING, "trace store write failed", e);
        }
    }

    @Override
    public CompletableResultCode forceFlush() {
        drain();
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        writer.shutdownNow();
        drain();
        return CompletableResultCode.ofSuccess();
    }
}

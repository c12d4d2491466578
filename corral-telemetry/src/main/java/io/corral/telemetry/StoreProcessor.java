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
 * (at most {@link #MAX_QUEUED}; more are dropped and counted), written every 200 ms, sooner when {@link #WAKE_AT}
 * are waiting (a burst is written before the queue fills), and written at once by {@link #forceFlush()} on the
 * caller's thread, so a query right after a request sees its spans.
 */
final class StoreProcessor implements SpanProcessor {

    static final int MAX_QUEUED = 20_000;
    /** Spans waiting that wake the writer before its interval is up: a quarter of what the queue holds. */
    static final int WAKE_AT = MAX_QUEUED / 4;

    private final TraceStore store;
    private final ConcurrentLinkedQueue<SpanData> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private final ScheduledExecutorService writer;

    StoreProcessor(TraceStore store) {
        this(store, 200);
    }

    /** With the writer's interval in milliseconds. */
    StoreProcessor(TraceStore store, long intervalMillis) {
        this.store = store;
        this.writer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("corral-trace-store").factory());
        writer.scheduleWithFixedDelay(this::drain, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
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
        int waiting = queued.incrementAndGet();
        if (waiting > MAX_QUEUED) {
            queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.add(span.toSpanData());
        if (waiting == WAKE_AT) {
            try {
                writer.execute(this::drain); // once a crossing: the count falls back as the writer takes the spans
            } catch (java.util.concurrent.RejectedExecutionException shutDown) {
                // shutdown() drains what is left
            }
        }
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

package io.corral.telemetry;

import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.sdk.trace.IdGenerator;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Trace and span ids that begin with the time they were made, so the trace store's indexes on them grow at
 * their end, as the index on start time does, instead of taking every new span at a random place (which cost
 * the store most of its time, more as it filled). A trace id is 48 bits of epoch milliseconds and 80 random
 * bits, as AWS X-Ray's trace ids put the time first: its lower 64 bits, which the ratio sampler reads and W3C's
 * {@code random} flag speaks of, stay random. A span id is the epoch milliseconds and a 20-bit counter, unique
 * in this process (a million spans within one millisecond before it would repeat).
 */
final class TimeOrderedIds implements IdGenerator {

    private final LongSupplier clock;
    private final AtomicLong counter = new AtomicLong(ThreadLocalRandom.current().nextLong());

    TimeOrderedIds(LongSupplier epochMillis) {
        this.clock = epochMillis;
    }

    @Override
    public String generateSpanId() {
        long id = (clock.getAsLong() << 20) | (counter.getAndIncrement() & 0xFFFFF);
        return SpanId.fromLong(id == 0 ? 1 : id);
    }

    @Override
    public String generateTraceId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (clock.getAsLong() << 16) | (random.nextLong() & 0xFFFF);
        long low;
        do {
            low = random.nextLong();
        } while (low == 0);
        return TraceId.fromLongs(high, low);
    }
}

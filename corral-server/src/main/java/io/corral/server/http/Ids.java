package io.corral.server.http;

import java.util.concurrent.atomic.AtomicLong;

/** Request ids: short, unique in this process, in base 36. */
public final class Ids {

    private static final AtomicLong NEXT = new AtomicLong(System.currentTimeMillis() % 100_000 * 1000);

    private Ids() {
    }

    public static String next() {
        return Long.toString(NEXT.incrementAndGet(), 36);
    }
}

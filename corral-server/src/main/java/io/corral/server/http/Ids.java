package io.corral.server.http;

import java.util.concurrent.atomic.AtomicLong;

/** Request ids: short, unique in this process, in base 36; and random ids for what is kept. */
public final class Ids {

    private static final AtomicLong NEXT = new AtomicLong(System.currentTimeMillis() % 100_000 * 1000);

    private Ids() {
    }

    public static String next() {
        return Long.toString(NEXT.incrementAndGet(), 36);
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /** An id for something kept (a batch, an upload, a part): {@code prefix} and 24 random hex digits, unique across nodes. */
    public static String random(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return prefix + java.util.HexFormat.of().formatHex(b);
    }
}

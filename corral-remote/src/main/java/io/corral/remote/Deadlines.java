package io.corral.remote;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read timeouts for both transports, kept by one daemon thread that ends reads waiting past their
 * deadline. A socket timeout would do the same, but on a virtual thread it arms a timer for every read,
 * which cost about 20 µs a request in the gateway harness (docs/BENCHMARKS.md).
 */
final class Deadlines {

    /** Something read with a deadline: {@link #NONE} while no read waits. */
    interface Watched {
        long deadline();

        /** Ends the waiting read (by closing what it reads); it then fails with a timeout. */
        void expire();
    }

    static final long NONE = Long.MAX_VALUE;
    private static final long TICK_MILLIS = 10;
    private static final Set<Watched> WATCHED = ConcurrentHashMap.newKeySet();

    static {
        Thread.ofPlatform().daemon().name("corral-read-deadlines").start(() -> {
            while (true) {
                try {
                    Thread.sleep(TICK_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (Watched w : WATCHED) {
                    long d = w.deadline();
                    if (d != NONE && now - d > 0) {
                        WATCHED.remove(w);
                        w.expire();
                    }
                }
            }
        });
    }

    private Deadlines() {
    }

    static void watch(Watched w) {
        WATCHED.add(w);
    }

    static void forget(Watched w) {
        WATCHED.remove(w);
    }
}

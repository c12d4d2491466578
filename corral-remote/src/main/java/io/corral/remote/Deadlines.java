package io.corral.remote;

import java.io.IOException;
import java.net.SocketTimeoutException;
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

    /** One blocking read. */
    interface Read {
        int read() throws IOException;
    }

    /** The reads of one stream or connection, each given {@code timeoutNanos}; watched until {@link #stop()}. */
    static final class Reads implements Watched {
        private final Runnable end;
        private volatile long timeoutNanos;
        private volatile long deadline = NONE;
        private volatile boolean expired;

        /** {@code end} makes a waiting read fail, e.g. by closing the socket. */
        Reads(long timeoutNanos, Runnable end) {
            this.timeoutNanos = timeoutNanos;
            this.end = end;
            watch(this);
        }

        void timeout(long nanos) {
            timeoutNanos = nanos;
        }

        /** Runs a read; one that waited past the timeout fails with {@link SocketTimeoutException}. */
        int read(Read r) throws IOException {
            deadline = System.nanoTime() + timeoutNanos;
            try {
                return r.read();
            } catch (IOException e) {
                throw expired ? new SocketTimeoutException("no data for " + timeoutNanos / 1_000_000 + " ms") : e;
            } finally {
                deadline = NONE;
            }
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        public void expire() {
            expired = true;
            end.run();
        }

        void stop() {
            forget(this);
        }
    }
}

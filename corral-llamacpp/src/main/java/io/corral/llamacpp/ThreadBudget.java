package io.corral.llamacpp;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shares a model's CPU threads among the generations running on it: each evaluation uses
 * {@code threads / active generations} (at least one). A lone request gets every core; four requests
 * on two cores get one each, instead of eight spinning llama.cpp workers fighting over two cores
 * (measured in docs/BENCHMARKS.md). With {@code adaptive} off, every evaluation uses all threads.
 */
final class ThreadBudget {

    private final int threads;
    private final boolean adaptive;
    private final AtomicInteger active = new AtomicInteger();

    ThreadBudget(int threads, boolean adaptive) {
        this.threads = threads;
        this.adaptive = adaptive;
    }

    void join() {
        active.incrementAndGet();
    }

    void leave() {
        active.decrementAndGet();
    }

    /** Threads for one evaluation now. */
    int share() {
        return adaptive ? Math.max(1, threads / Math.max(1, active.get())) : threads;
    }
}

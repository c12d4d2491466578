package io.corral.llamacpp;

import io.corral.api.CancelledException;
import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;

/**
 * Up to {@code parallel} contexts over one model, created on demand. Each stateless request borrows
 * one for its whole generation, so that many run at once; a request beyond {@code parallel} waits. A shield's
 * call ({@link io.corral.spi.SafetyProvider#GUARD_CALL} bound) has one more context of its own, so a guard model
 * served here never waits behind the generations it checks, which wait for it.
 */
final class ContextPool implements AutoCloseable {

    private final NativeModel model;
    private final LlamaCppConfig config;
    private final Semaphore permits;
    private final Semaphore guardPermits = new Semaphore(1, true);
    private final ConcurrentLinkedDeque<KvCache> idle = new ConcurrentLinkedDeque<>();
    private final List<KvCache> all = new ArrayList<>();
    private final ThreadBudget threads;
    private volatile boolean closed;

    ContextPool(NativeModel model, LlamaCppConfig config) {
        this.model = model;
        this.config = config;
        this.permits = new Semaphore(config.parallel(), true);
        this.threads = new ThreadBudget(config.threads(), config.adaptiveThreads());
    }

    /** Borrows an empty context; blocks while all are busy. Give it back with {@link Lease#release()}. */
    Lease acquire() {
        if (closed) {
            throw new io.corral.api.UnavailableException("the engine is closed");
        }
        Semaphore permits = io.corral.spi.SafetyProvider.GUARD_CALL.isBound() ? guardPermits : this.permits;
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancelledException("interrupted while waiting for a free context");
        }
        KvCache cache = idle.pollFirst();
        if (cache == null) {
            try {
                cache = newCache();
            } catch (RuntimeException e) {
                permits.release();
                throw e;
            }
            synchronized (all) {
                all.add(cache);
            }
        }
        return new Lease(cache, permits);
    }

    /** A borrowed context and the permit it holds. */
    final class Lease {
        final KvCache cache;
        private final Semaphore permit;

        private Lease(KvCache cache, Semaphore permit) {
            this.cache = cache;
            this.permit = permit;
        }

        void release() {
            if (!closed) {
                cache.clear();
                idle.addFirst(cache);
            }
            permit.release();
        }
    }

    /** A context of its own (for a session) that shares the model's threads. */
    KvCache newCache() {
        return new KvCache(new NativeContext(model, config.contextSize(), config.batchSize(), config.threads()), threads);
    }

    @Override
    public void close() {
        closed = true;
        synchronized (all) {
            all.forEach(c -> c.context().close());
            all.clear();
        }
    }
}

package io.corral.llamacpp;

import io.corral.api.ContextOverflowException;
import io.corral.api.FinishReason;
import io.corral.api.UnavailableException;
import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Continuous batching over one model: every generation is a sequence in one shared KV cache, and each step is
 * one {@code llama_decode} over a batch holding a token for every sequence that is generating, then as many
 * prompt tokens of new requests as the batch has room for (a long prompt is read in chunks, beside the running
 * streams). A request waits in line while {@code parallel} generations run (a shield's call has one more lane);
 * it joins at the next step.
 *
 * <p>Prompt caching: a finished sequence stays in the cache, idle, until its cells or its id are needed (least
 * recently used first, sessions last). A new request starts from the sequence sharing its longest prefix: it takes
 * that sequence over when all of it is a prefix of the prompt, or shares its cells otherwise. The cache has
 * {@code (parallel + 1) x window} cells, so the running sequences always fit once idle ones are evicted. Idle
 * stateless sequences keep at most one window of cells between them: every cell in use widens each step's
 * attention (llama.cpp's unified cache attends over the span of used cells, masked), so a cache that grew
 * with every request slows every step after it (unbounded, Corral's tokens/s against llama-server's fell from
 * about 1.0x to 0.80-0.90x over three rounds of {@code bench/load.sh}; a window of idle cells costs about 1.5 %
 * in-process, {@code bench/concurrency.sh}).
 *
 * <p>One platform thread owns the context: it runs the steps and, between them, the tasks sessions hand it
 * ({@link #call}), so nothing else touches the cache.
 */
final class Scheduler implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Scheduler.class.getName());

    private final NativeContext context;
    private final int window;
    private final int parallel;
    private final int batchSize;
    private final int threads;      // the most a step uses (the config's)
    private final long parameters;  // the model's, for a step's work
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Generation> waiting = new ArrayDeque<>();
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean closed;
    // the scheduler's thread only
    private final List<Generation> running = new ArrayList<>();
    private final List<KvCache> resident = new ArrayList<>();
    private final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
    private volatile long steps;
    private final int[] token;
    private final int[] pos;
    private final int[] seq;
    private final boolean[] logits;
    private final Generation[] owner;
    private final Thread thread;

    Scheduler(NativeModel model, LlamaCppConfig config, String name) {
        this.window = config.contextSize();
        this.parallel = config.parallel();
        this.batchSize = config.batchSize();
        this.threads = config.threads();
        this.parameters = model.parameterCount();
        // llama.cpp reserves an output row per sequence in every batch: more sequences than a batch's tokens abort it
        int sequences = Math.min(batchSize, Math.min(256, Math.max(8, 4 * (parallel + 1))));
        this.context = NativeContext.forSequences(model, window * (parallel + 1), batchSize, config.threads(), sequences);
        for (int i = 0; i < sequences; i++) {
            freeIds.add(i);
        }
        token = new int[batchSize];
        pos = new int[batchSize];
        seq = new int[batchSize];
        logits = new boolean[batchSize];
        owner = new Generation[batchSize];
        thread = Thread.ofPlatform().daemon().name("corral-decode-" + name).start(this::loop);
    }

    /** Decode steps run so far. */
    long steps() {
        return steps;
    }

    /** A session's sequence: no cells until its first turn. */
    KvCache newSessionCache() {
        return new KvCache(context, window, true);
    }

    /** Queues a generation; it starts at the next step with a free lane. */
    void submit(Generation g) {
        lock.lock();
        try {
            if (closed) {
                throw new UnavailableException("the engine is closed");
            }
            g.submittedStep = steps;
            waiting.add(g);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code task} on the scheduler's thread between steps and returns its result. */
    <T> T call(Supplier<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                throw new UnavailableException("the engine is closed");
            }
            tasks.add(() -> {
                try {
                    result.complete(task.get());
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            });
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.corral.api.CancelledException("interrupted while waiting for the engine");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) e.getCause();
        }
    }

    /** Gives a sequence that has none an id, evicting an idle one (never {@code keep}) if need be (on the scheduler's thread). */
    void assignId(KvCache cache, KvCache keep) {
        if (cache.seq() < 0) {
            cache.assign(takeId(keep));
            resident.add(cache);
        }
    }

    /** Frees a sequence's cells and id for good (on the scheduler's thread). */
    void release(KvCache cache) {
        if (cache.seq() >= 0) {
            resident.remove(cache);
            freeIds.add(cache.evict());
        }
    }

    private void loop() {
        List<Runnable> todo = new ArrayList<>();
        List<Generation> admitted = new ArrayList<>();
        List<Generation> dropped = new ArrayList<>();
        try {
            while (true) {
                lock.lock();
                try {
                    while (!closed && tasks.isEmpty() && waiting.isEmpty() && running.isEmpty()) {
                        work.awaitUninterruptibly();
                    }
                    if (closed) {
                        break;
                    }
                    todo.addAll(tasks);
                    tasks.clear();
                    admit(admitted, dropped);
                } finally {
                    lock.unlock();
                }
                todo.forEach(Runnable::run);
                todo.clear();
                dropped.forEach(g -> g.end(FinishReason.CANCELLED, null));
                dropped.clear();
                for (Generation g : admitted) {
                    try {
                        start(g);
                        running.add(g);
                    } catch (RuntimeException e) {
                        end(g, null, e);
                    }
                }
                admitted.clear();
                if (!running.isEmpty()) {
                    step();
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "the decode loop failed", e);
            lock.lock();
            try {
                closed = true;
            } finally {
                lock.unlock();
            }
        } finally {
            shutDown();
        }
    }

    /** Moves waiting generations into the running ones while lanes are free; cancelled ones are dropped. */
    private void admit(List<Generation> admitted, List<Generation> dropped) {
        int lanes = 0;
        int guardLanes = 0;
        for (Generation g : running) {
            if (g.guard) {
                guardLanes++;
            } else {
                lanes++;
            }
        }
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                it.remove();
                dropped.add(g);
            } else if (g.guard ? guardLanes < 1 : lanes < parallel) {
                it.remove();
                admitted.add(g);
                if (g.guard) {
                    guardLanes++;
                } else {
                    lanes++;
                }
            }
        }
    }

    /** Gives a new generation its sequence, holding as much of its prompt as any resident sequence holds. */
    private void start(Generation g) {
        int[] prompt = g.prompt;
        KvCache best = null;
        int bestLength = 0;
        for (KvCache c : resident) {
            int n = c.commonPrefix(prompt);
            if (n > bestLength) {
                best = c;
                bestLength = n;
            }
        }
        KvCache cache = g.cache;
        if (cache == null) {
            if (best != null && !best.busy && !best.session && bestLength == best.size()) {
                cache = best; // all of it is a prefix of this prompt: take it over
            } else {
                cache = new KvCache(context, window, false);
            }
        }
        assignId(cache, best);
        if (best != null && best != cache && bestLength > cache.commonPrefix(prompt)) {
            cache.shareFrom(best, bestLength);
        }
        cache.busy = true;
        cache.lastUsed = steps;
        g.begin(cache, cache.keepCommonPrefix(prompt));
    }

    /** A free sequence id, evicting the least recently used idle sequence (never {@code keep}) when none is. */
    private int takeId(KvCache keep) {
        if (freeIds.isEmpty() && !evictOne(keep)) {
            throw new UnavailableException("no free sequence in the KV cache");
        }
        return freeIds.poll();
    }

    /** Evicts the least recently used idle sequence, stateless ones before sessions'; false if none is idle. */
    private boolean evictOne(KvCache keep) {
        KvCache victim = resident.stream().filter(c -> !c.busy && c != keep)
                .min(Comparator.comparing((KvCache c) -> c.session).thenComparingLong(c -> c.lastUsed)).orElse(null);
        if (victim == null) {
            return false;
        }
        release(victim);
        return true;
    }

    /** The least work (a step's tokens times the model's parameters) that gets a second thread. */
    static final long WORK_PER_THREAD = 32_000_000L;

    /**
     * The threads a step of {@code tokens} uses, at most {@code max}: one for a small step (the bundled 0.3M-parameter model's
     * steps of up to about a hundred tokens), since llama.cpp's threads meet at a spinning barrier after every node of the
     * graph, and beside the server's own threads on few cores one that is put off the CPU holds the others spinning: with two
     * threads on two cores, one-token chats from 16 clients ran at 360-540 requests/s against 4,300-5,900 with one (a 1B
     * model's step, of 1.2 G parameters a token, always gets them all).
     */
    static int threadsFor(int tokens, long parameters, int max) {
        return (int) Math.max(1, Math.min(max, tokens * parameters / WORK_PER_THREAD));
    }

    /** One decode over a token of every generating sequence and the prompt chunks that fit beside them. */
    private void step() {
        int n = 0;
        for (Generation g : List.copyOf(running)) {
            if (g.cancelled()) {
                end(g, FinishReason.CANCELLED, null);
            } else if (g.pendingToken >= 0) {
                KvCache c = g.cache;
                if (c.size() >= c.capacity()) {
                    if (!g.owner.makeRoom(c)) {
                        end(g, FinishReason.LENGTH, null);
                        continue;
                    }
                    c.restoreResident();
                }
                n = add(n, g.pendingToken, c.size(), c.seq(), true, g);
            }
        }
        for (int i = running.size() - 1; i >= 0; i--) { // backwards: an image that fails ends its generation alone
            Generation g = running.get(i);
            if (g.imageNext() && !g.cancelled()) {
                decodeImage(g);
            }
        }
        for (Generation g : running) {
            if (n == batchSize) {
                break;
            }
            if (g.promptLeft() > 0 && !g.imageNext()) {
                int take = g.textAhead(batchSize - n);
                int from = g.promptDone();
                int at = g.cache.size();
                for (int i = 0; i < take; i++) {
                    n = add(n, g.prompt[from + i], at + i, g.cache.seq(), from + i == g.prompt.length - 1, g);
                }
            }
        }
        if (n == 0) {
            return;
        }
        context.setThreads(threadsFor(n, parameters, threads));
        try {
            while (!context.decodeBatch(token, pos, seq, logits, n)) {
                if (!evictOne(null)) {
                    // every cell is held by a running sequence: the newest one ends, the others go on next step
                    Generation newest = owner[n - 1];
                    end(newest, null, new ContextOverflowException("the KV cache of " + context.size()
                            + " tokens is full; the request was ended to let the others go on"));
                    return;
                }
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < n; i++) {
                if (running.contains(owner[i])) {
                    release(owner[i].cache);
                    end(owner[i], null, e);
                }
            }
            return;
        }
        long step = steps++;
        for (int i = 0; i < n; ) {
            Generation g = owner[i];
            int j = i;
            while (j < n && owner[j] == g) {
                j++;
            }
            if (g.pendingToken >= 0 && i + 1 == j && g.promptLeft() == 0) {
                g.pendingEvaluated();
            } else {
                g.promptEvaluated(j - i);
            }
            if (logits[j - 1]) {
                float[] values = g.wantsLogits() ? context.logits(j - 1) : null;
                FinishReason done = g.accept(context.sample(g.sampler, j - 1), values, step);
                if (done != null) {
                    end(g, done, null);
                }
            }
            i = j;
        }
    }

    /**
     * Evaluates the next rows of the image at a generation's next prompt slot: up to a batch of its embeddings, a
     * batch of their own (a llama_batch holds tokens or embeddings, not both); a larger image goes on at the next
     * step, so the running streams keep their pace.
     */
    private void decodeImage(Generation g) {
        var image = g.nextImage();
        try {
            int done = g.promptDone() - image.offset();
            int take = Math.min(batchSize, image.count() - done);
            // a prompt that ends with the image: its last row's logits give the first token
            boolean last = done + take == image.count() && image.offset() + image.count() == g.prompt.length;
            context.setThreads(threadsFor(take, parameters, threads));
            while (!context.decodeEmbeddings(image.embeddings(), done, take, g.cache.size(), g.cache.seq(),
                    image.nonCausal(), last)) {
                if (!evictOne(null)) {
                    end(g, null, new ContextOverflowException("the KV cache of " + context.size()
                            + " tokens is full; the request was ended to let the others go on"));
                    return;
                }
            }
            g.promptEvaluated(take);
            if (last) {
                float[] values = g.wantsLogits() ? context.logits(take - 1) : null;
                FinishReason finished = g.accept(context.sample(g.sampler, take - 1), values, steps);
                if (finished != null) {
                    end(g, finished, null);
                }
            }
        } catch (RuntimeException e) {
            release(g.cache);
            end(g, null, e);
        }
    }

    private int add(int n, int t, int p, int s, boolean wantLogits, Generation g) {
        token[n] = t;
        pos[n] = p;
        seq[n] = s;
        logits[n] = wantLogits;
        owner[n] = g;
        return n + 1;
    }

    /** Ends a generation; its sequence stays as an idle prompt cache, within the idle budget. */
    private void end(Generation g, FinishReason reason, RuntimeException error) {
        running.remove(g);
        KvCache c = g.cache;
        g.endStep = steps;
        try {
            g.end(reason, error);
        } finally {
            if (c != null) {
                c.busy = false;
                c.lastUsed = steps;
                trimIdle();
            }
        }
    }

    /** Evicts idle stateless sequences, least recently used first, until they hold at most a window of cells. */
    private void trimIdle() {
        int idle = 0;
        for (KvCache c : resident) {
            if (!c.busy && !c.session) {
                idle += c.resident();
            }
        }
        while (idle > window) {
            KvCache victim = null;
            for (KvCache c : resident) {
                if (!c.busy && !c.session && (victim == null || c.lastUsed < victim.lastUsed)) {
                    victim = c;
                }
            }
            idle -= victim.resident();
            release(victim);
        }
    }

    private void shutDown() {
        UnavailableException closing = new UnavailableException("the engine is closed");
        List<Generation> left = new ArrayList<>(running);
        List<Runnable> pending;
        lock.lock();
        try {
            closed = true;
            left.addAll(waiting);
            waiting.clear();
            pending = new ArrayList<>(tasks);
            tasks.clear();
        } finally {
            lock.unlock();
        }
        running.clear();
        for (Generation g : left) {
            g.end(null, closing);
        }
        pending.forEach(Runnable::run); // a session's task after close fails cleanly: the context is still there
        context.close();
    }

    /** Ends running and waiting generations, then frees the context. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

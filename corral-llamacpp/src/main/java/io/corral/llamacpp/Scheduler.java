package io.corral.llamacpp;

import io.corral.api.ContextOverflowException;
import io.corral.api.FinishReason;
import io.corral.api.UnavailableException;
import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Continuous batching over one model: every generation is a sequence of one KV cache, and each step is one
 * {@code llama_decode} over a batch holding a token for every sequence that is generating, then as many prompt
 * tokens of new requests as the batch has room for (a long prompt is read in chunks, beside the running streams).
 * A request waits in line while {@code parallel} generations run (a shield's call has one more lane); it joins at
 * the next step.
 *
 * <p>The cache has a stream of {@code window} cells for each of {@code parallel + 1} sequence ids, as llama-server
 * has one per slot, so a token attends over its own sequence's cells only ({@link NativeContext#forSequences}).
 * llama.cpp evaluates the streams of one batch together only while their ids run on by one, in the batch's order,
 * and makes a pass over the weights for each run: so a batch lists its sequences by id, and a generation starts in
 * the stream that leaves the running ids in the fewest runs (next to the others, or in a gap between them).
 *
 * <p>Prompt caching: a finished sequence stays in its stream, idle, until the stream is needed; it then moves to an
 * empty stream if there is one, or is evicted (least recently used first, sessions last; a session's cells are kept
 * in host memory, within a budget, and written back at its next turn). A new request starts from
 * the sequence sharing its longest prefix: it takes that sequence over when all of it is a prefix of the prompt, copies
 * the prefix into an empty stream ({@link KvCache#copyFrom}: the source stays cached) when there is one, and otherwise
 * takes the sequence over cut to the prefix rather than evict another whole.
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
    /** The sequence holding each stream (the index is its sequence id); null while the stream is empty. */
    private final KvCache[] streams;
    /** A step's plan, by sequence id: the generation, and its tokens (1 for a sampled one, else a prompt chunk). */
    private final Generation[] planned;
    private final int[] plannedTokens;
    /** Sessions evicted with their cells kept in host memory, oldest first, with the tokens kept; see {@link #vacate}. */
    private final java.util.LinkedHashMap<KvCache, Integer> parked = new java.util.LinkedHashMap<>();
    private long parkedTokens;
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
        // a stream for each lane (the config keeps parallel + 1 within a batch's tokens: llama.cpp reserves an output
        // row per sequence in every batch, and more sequences than a batch's tokens abort it)
        int sequences = parallel + 1;
        this.context = NativeContext.forSequences(model, window * sequences, batchSize, config.threads(), sequences);
        streams = new KvCache[sequences];
        planned = new Generation[sequences];
        plannedTokens = new int[sequences];
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

    /**
     * Gives a sequence that has none a stream, making room as a new generation does; none while every stream is busy
     * (its tokens are then evaluated when next used). On the scheduler's thread.
     */
    void assignStream(KvCache cache) {
        if (cache.seq() < 0) {
            int s = chooseStream(streams, null, null, false);
            if (s >= 0) {
                place(cache, s);
            }
        }
    }

    /** Frees a sequence's cells, stream and kept cells for good (on the scheduler's thread). */
    void release(KvCache cache) {
        forgetParked(cache);
        if (cache.seq() >= 0) {
            streams[cache.seq()] = null;
        }
        cache.evict();
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

    /** Gives a new generation its sequence and stream, holding as much of its prompt as any resident sequence holds. */
    private void start(Generation g) {
        int[] prompt = g.prompt;
        KvCache best = null;
        int bestLength = MIN_SHARED - 1;
        for (KvCache c : streams) {
            int n = c == null ? 0 : c.commonPrefix(prompt);
            if (n > bestLength) {
                best = c;
                bestLength = n;
            }
        }
        KvCache cache = g.cache;
        boolean idleRequest = best != null && !best.busy && !best.session; // one a new request may take over
        if (cache == null && idleRequest && bestLength == best.size()) {
            cache = best; // all of it is a prefix of this prompt: take it over
        }
        // most of it is: cut to the prefix, it may take the place of evicting another whole
        boolean takeOver = cache == null && idleRequest && 2 * bestLength >= best.size();
        int s = chooseStream(streams, cache, best, takeOver);
        if (s < 0) {
            throw new UnavailableException("no free stream in the KV cache");
        }
        if (cache == null) {
            // the stream to run in holds the best prefix: take it over, cut to the prefix
            cache = streams[s] == best && idleRequest ? best : new KvCache(context, window, false);
        }
        if (cache.seq() < 0) {
            place(cache, s);
        } else if (cache.seq() != s) {
            vacate(s);
            streams[cache.seq()] = null;
            cache.moveTo(s);
            streams[s] = cache;
        }
        if (best != null && best != cache && best.seq() >= 0 && bestLength > cache.commonPrefix(prompt)) {
            cache.copyFrom(best, bestLength);
        }
        cache.busy = true;
        cache.lastUsed = steps;
        g.begin(cache, cache.keepCommonPrefix(prompt));
    }

    /**
     * The stream for a sequence to run in, -1 if all are busy: first one that leaves the busy streams in the fewest runs
     * of consecutive ids; then {@code own}'s (the sequence's, when it has one), an empty one, {@code best}'s (the
     * sequence holding the prompt's longest prefix) when the request may take it over, the least recently used idle
     * stateless sequence's, the least recently used idle session's, and {@code best}'s last, its prefix to be copied.
     */
    static int chooseStream(KvCache[] streams, KvCache own, KvCache best, boolean takeOver) {
        int chosen = -1;
        int chosenJoins = 0;
        int chosenRank = 0;
        for (int s = 0; s < streams.length; s++) {
            KvCache c = streams[s];
            if (c != null && c.busy) {
                continue;
            }
            int joins = (busy(streams, s - 1) ? 1 : 0) + (busy(streams, s + 1) ? 1 : 0);
            int rank = c == null ? 1 : c == own ? 0 : c == best ? (takeOver ? 2 : 5) : c.session ? 4 : 3;
            if (chosen < 0 || joins > chosenJoins || joins == chosenJoins && (rank < chosenRank
                    || rank == chosenRank && c != null && c.lastUsed < streams[chosen].lastUsed)) {
                chosen = s;
                chosenJoins = joins;
                chosenRank = rank;
            }
        }
        return chosen;
    }

    private static boolean busy(KvCache[] streams, int s) {
        return s >= 0 && s < streams.length && streams[s] != null && streams[s].busy;
    }

    /**
     * Empties stream {@code s}: its idle sequence moves to an empty stream if there is one, or is evicted. An evicted
     * session's cells are kept in host memory, written back at its next turn (a copy, not an evaluation), up to as
     * many tokens as the cache's own cells, the oldest dropped first: sessions outnumber the streams when many
     * conversations are open at once.
     */
    private void vacate(int s) {
        KvCache c = streams[s];
        if (c == null) {
            return;
        }
        for (int e = 0; e < streams.length; e++) {
            if (streams[e] == null) {
                streams[s] = null;
                c.moveTo(e);
                streams[e] = c;
                return;
            }
        }
        streams[s] = null;
        if (!c.session) {
            c.evict();
            return;
        }
        int tokens = c.park();
        if (tokens > 0) {
            parked.put(c, tokens);
            parkedTokens += tokens;
            long budget = (long) window * streams.length;
            for (var it = parked.entrySet().iterator(); parkedTokens > budget && it.hasNext(); ) {
                var oldest = it.next();
                it.remove();
                parkedTokens -= oldest.getValue();
                oldest.getKey().dropKept();
            }
        }
    }

    /** Gives {@code cache}, which holds no stream, stream {@code s}, writing back cells kept when it was evicted. */
    private void place(KvCache cache, int s) {
        boolean wasParked = forgetParked(cache); // first: making room must not drop its own
        vacate(s);
        cache.assign(s);
        streams[s] = cache;
        if (wasParked) {
            cache.unpark();
        }
    }

    /** Takes a parked sequence off the host memory's count; false if it was not parked. */
    private boolean forgetParked(KvCache cache) {
        Integer tokens = parked.remove(cache);
        if (tokens != null) {
            parkedTokens -= tokens;
        }
        return tokens != null;
    }

    /**
     * The shortest prefix worth taking from another sequence: shorter ones (a BOS, a template's first tokens) are read
     * again rather than keep that sequence from eviction or copy it (a copy of 1,000 tokens of a 1B model's
     * cells costs about a token and a half of evaluation, {@code bench/stream-copy.sh}).
     */
    static final int MIN_SHARED = 16;

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

    /**
     * One decode over a token of every generating sequence and the prompt chunks that fit beside them (first come,
     * first served), listed by sequence id.
     */
    private void step() {
        Arrays.fill(planned, null);
        int room = batchSize;
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
                plan(g, 1);
                room--;
            }
        }
        for (int i = running.size() - 1; i >= 0; i--) { // backwards: an image that fails ends its generation alone
            Generation g = running.get(i);
            if (g.imageNext() && !g.cancelled()) {
                decodeImage(g);
            }
        }
        for (Generation g : running) {
            if (room == 0) {
                break;
            }
            if (g.pendingToken < 0 && g.promptLeft() > 0 && !g.imageNext()) {
                int take = g.textAhead(room);
                plan(g, take);
                room -= take;
            }
        }
        int n = 0;
        for (int s = 0; s < planned.length; s++) {
            Generation g = planned[s];
            if (g == null) {
                continue;
            }
            KvCache c = g.cache;
            if (g.pendingToken >= 0) {
                n = add(n, g.pendingToken, c.size(), s, true, g);
            } else {
                int from = g.promptDone();
                for (int i = 0; i < plannedTokens[s]; i++) {
                    n = add(n, g.prompt[from + i], c.size() + i, s, from + i == g.prompt.length - 1, g);
                }
            }
        }
        if (n == 0) {
            return;
        }
        context.setThreads(threadsFor(n, parameters, threads));
        try {
            if (!context.decodeBatch(token, pos, seq, logits, n)) {
                // a stream is a window, which no running sequence outgrows: not expected; the last one ends, the others go on
                Generation last = owner[n - 1];
                end(last, null, new ContextOverflowException("the KV cache of " + context.size()
                        + " tokens is full; the request was ended to let the others go on"));
                return;
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
            if (!context.decodeEmbeddings(image.embeddings(), done, take, g.cache.size(), g.cache.seq(),
                    image.nonCausal(), last)) {
                end(g, null, new ContextOverflowException("the KV cache of " + context.size()
                        + " tokens is full; the request was ended to let the others go on"));
                return;
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

    private void plan(Generation g, int tokens) {
        planned[g.cache.seq()] = g;
        plannedTokens[g.cache.seq()] = tokens;
    }

    private int add(int n, int t, int p, int s, boolean wantLogits, Generation g) {
        token[n] = t;
        pos[n] = p;
        seq[n] = s;
        logits[n] = wantLogits;
        owner[n] = g;
        return n + 1;
    }

    /** Ends a generation; its sequence stays in its stream as an idle prompt cache. */
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
            }
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

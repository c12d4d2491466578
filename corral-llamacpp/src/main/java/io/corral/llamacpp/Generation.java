package io.corral.llamacpp;

import io.corral.api.CancelledException;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.Metrics;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenLogprob;
import io.corral.api.TokenStream;
import io.corral.api.Usage;
import io.corral.llamacpp.ffi.NativeModel;
import io.corral.llamacpp.ffi.NativeSampler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One generation: a sequence the {@link Scheduler} evaluates and samples, a step at a time beside the
 * others, and a {@link TokenStream} its caller reads, waiting for text as it comes. The scheduler's side
 * ({@link #begin}, {@link #promptEvaluated}, {@link #accept}, {@link #end}) runs on its thread only.
 * {@link #cancel()} and {@link #close()} may come from any thread; the scheduler ends the generation before
 * its next step.
 */
final class Generation implements TokenStream {

    /** What the generation's sequence does at its limits and at its end. */
    interface Owner {
        /** Frees room in a full sequence; returns false when the generation must end instead. */
        boolean makeRoom(KvCache cache);

        /** Called exactly once, on the scheduler's thread, when the generation has ended. */
        void finished(Generation generation);
    }

    static final Owner STATELESS = new Owner() {
        @Override
        public boolean makeRoom(KvCache cache) {
            return false; // a stateless request ends when its window is full
        }

        @Override
        public void finished(Generation generation) {
        }
    };

    private final NativeModel model;
    final NativeSampler sampler;
    final int[] prompt;
    private final SamplingParams params;
    private final TextAssembler assembler;
    private final String modelId;
    private final String providerId;
    final Owner owner;
    /** The sequence, chosen by the scheduler unless given (a session's). */
    KvCache cache;
    /** A shield's call, which has a lane of its own. */
    final boolean guard;
    private final int limit; // max_tokens, or one window's worth when unset, so no answer runs forever
    private final long startNanos = System.nanoTime();

    /** The prompt's images, in order: their slots in {@link #prompt} hold negative ids (none for text only). */
    List<io.corral.llamacpp.ffi.NativeVision.Embedded> images = List.of();

    // the scheduler's thread only
    private int promptDone;
    int pendingToken = -1; // sampled, not yet evaluated
    volatile long submittedStep;
    volatile long firstTokenStep = -1;
    volatile long endStep = -1;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final StringBuilder text = new StringBuilder();
    private final java.util.ArrayDeque<StreamEvent.Text> unread = new java.util.ArrayDeque<>(); // a piece per token
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private int logprobsTaken;
    private int handedOut; // characters of text the reader took
    private volatile boolean cancelled;
    private int cachedTokens;
    private int generated;
    private int[] generatedIds = new int[32];
    private long firstTokenNanos;
    private long endNanos;
    private FinishReason finishReason;
    private RuntimeException failure;
    private boolean finishSent;

    Generation(NativeModel model, KvCache cache, NativeSampler sampler, int[] prompt, SamplingParams params,
               List<String> stops, String modelId, String providerId, Owner owner, int window) {
        this.model = model;
        this.cache = cache;
        this.sampler = sampler;
        this.prompt = prompt;
        this.params = params;
        this.assembler = new TextAssembler(stops);
        this.modelId = modelId;
        this.providerId = providerId;
        this.owner = owner;
        this.guard = io.corral.spi.SafetyProvider.GUARD_CALL.isBound();
        this.limit = params.maxTokens() > 0 ? params.maxTokens() : window;
    }

    // ---- the scheduler's side

    /** The generation has its sequence, holding the first {@code cached} prompt tokens already. */
    void begin(KvCache assigned, int cached) {
        cache = assigned;
        promptDone = cached;
        lock.lock();
        try {
            cachedTokens = cached;
        } finally {
            lock.unlock();
        }
    }

    /** Prompt tokens still to evaluate. */
    int promptLeft() {
        return prompt.length - promptDone;
    }

    /** Whether the next prompt slot is an image's (its embeddings are evaluated apart from tokens). */
    boolean imageNext() {
        return promptDone < prompt.length && prompt[promptDone] < 0;
    }

    /** The image whose slots include the next prompt slot. */
    io.corral.llamacpp.ffi.NativeVision.Embedded nextImage() {
        for (var image : images) {
            if (image.offset() <= promptDone && promptDone < image.offset() + image.count()) {
                return image;
            }
        }
        throw new IllegalStateException("no image at prompt slot " + promptDone);
    }

    /** The prompt's tokens from the next one up to the next image (or the end), at most {@code max}. */
    int textAhead(int max) {
        int n = 0;
        while (n < max && promptDone + n < prompt.length && prompt[promptDone + n] >= 0) {
            n++;
        }
        return n;
    }

    /** Prompt tokens evaluated so far, cached ones included. */
    int promptDone() {
        return promptDone;
    }

    /** The next {@code n} prompt tokens were evaluated. */
    void promptEvaluated(int n) {
        cache.evaluated(prompt, promptDone, promptDone + n);
        promptDone += n;
    }

    /** The pending token was evaluated. */
    void pendingEvaluated() {
        cache.evaluated(new int[]{pendingToken}, 0, 1);
        pendingToken = -1;
    }

    boolean wantsLogits() {
        return params.logprobs() >= 0;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** Takes a sampled token; returns null to go on, or why the generation is done (then call {@link #end}). */
    FinishReason accept(int token, float[] logits, long step) {
        lock.lock();
        try {
            if (generated == 0) {
                firstTokenNanos = System.nanoTime();
                firstTokenStep = step;
            }
            if (model.isEndOfGeneration(token)) {
                return FinishReason.STOP;
            }
            if (generated == generatedIds.length) {
                generatedIds = Arrays.copyOf(generatedIds, generated * 2);
            }
            generatedIds[generated++] = token;
            pendingToken = token;
            if (logits != null) {
                logprobs.add(Logprobs.of(model, logits, token, params.logprobs()));
            }
            emit(assembler.append(model.piece(token)));
            if (assembler.stopped()) {
                return FinishReason.STOP;
            }
            if (generated >= limit) {
                return FinishReason.LENGTH;
            }
            if (!unread.isEmpty()) {
                changed.signalAll();
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends the generation: with {@code reason}, or with {@code error} when that is not null. The owner hears of it
     * before the reader does, so what it records (a session's history) is there when the stream ends.
     */
    void end(FinishReason reason, RuntimeException error) {
        lock.lock();
        try {
            if (finishReason != null) {
                return;
            }
            if (reason != FinishReason.CANCELLED && error == null) {
                emit(assembler.flush());
            }
            endNanos = System.nanoTime();
            try {
                owner.finished(this);
            } finally {
                failure = error;
                finishReason = error != null ? FinishReason.STOP : reason;
                sampler.close();
                ended.countDown();
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void emit(String piece) {
        if (!piece.isEmpty() && !cancelled) {
            text.append(piece);
            List<TokenLogprob> lp = logprobsTaken == logprobs.size() ? List.of()
                    : List.copyOf(logprobs.subList(logprobsTaken, logprobs.size()));
            logprobsTaken = logprobs.size();
            unread.add(new StreamEvent.Text(piece, lp));
        }
    }

    // ---- the reader's side

    @Override
    public boolean hasNext() {
        lock.lock();
        try {
            while (unread.isEmpty() && finishReason == null) {
                try {
                    changed.await();
                } catch (InterruptedException e) {
                    cancel();
                    Thread.currentThread().interrupt();
                    throw new CancelledException("interrupted while waiting for the generation");
                }
            }
            if (unread.isEmpty() && failure != null) {
                throw failure;
            }
            return !unread.isEmpty() || !finishSent;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public StreamEvent next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended");
        }
        lock.lock();
        try {
            if (!unread.isEmpty()) {
                StreamEvent.Text piece = unread.poll();
                handedOut += piece.text().length();
                return piece;
            }
            finishSent = true;
            return new StreamEvent.Finish(finishReason, usage());
        } finally {
            lock.unlock();
        }
    }

    private Usage usage() {
        return new Usage(prompt.length, cachedTokens, generated);
    }

    /** Stops the generation: the answer is what the reader has taken; the scheduler ends it before its next step. */
    @Override
    public void cancel() {
        lock.lock();
        try {
            if (!cancelled) {
                cancelled = true;
                unread.clear();
                text.setLength(handedOut);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public ChatResult result() {
        while (hasNext()) {
            next();
        }
        lock.lock();
        try {
            long ttft = (generated == 0 ? endNanos : firstTokenNanos) - startNanos;
            double seconds = (endNanos - firstTokenNanos) / 1e9;
            double tps = generated > 1 && seconds > 0 ? (generated - 1) / seconds : 0;
            return new ChatResult(text.toString(), List.of(), finishReason, usage(),
                    new Metrics(modelId, providerId, Duration.ofNanos(endNanos - startNanos), Duration.ofNanos(ttft), tps),
                    logprobs);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        cancel();
    }

    /** Waits until the scheduler has ended the generation (its sequence is free again). */
    void awaitEnd() {
        try {
            ended.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancelledException("interrupted while waiting for the generation to end");
        }
    }

    /** Whether the reader is done with the stream: it read the end, or closed or cancelled it. */
    boolean readerDone() {
        lock.lock();
        try {
            return finishSent || cancelled;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the generation has ended. */
    boolean hasEnded() {
        return ended.getCount() == 0;
    }

    /** How the generation ended, or null while running. */
    FinishReason finishReason() {
        lock.lock();
        try {
            return finishReason;
        } finally {
            lock.unlock();
        }
    }

    /** The whole text so far. */
    String text() {
        lock.lock();
        try {
            return text.toString();
        } finally {
            lock.unlock();
        }
    }

    int generatedTokens() {
        return generated;
    }

    /** The generated tokens, in order (end-of-generation tokens are not included). */
    int[] generatedIds() {
        return Arrays.copyOf(generatedIds, generated);
    }

    /** How many of the generated tokens are in the KV cache (all but a sampled, unread last one). */
    int evaluatedGeneratedTokens() {
        return pendingToken >= 0 ? generated - 1 : generated;
    }

    /** Decode steps from the request's arrival to its first token (-1 before it), the scheduler's count. */
    long stepsToFirstToken() {
        return firstTokenStep < 0 ? -1 : firstTokenStep - submittedStep;
    }
}

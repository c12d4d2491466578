package io.corral.llamacpp;

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
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One generation, driven by its reader: each {@link #hasNext()} evaluates and samples tokens on the
 * caller's thread until there is text to hand out, then the {@link StreamEvent.Finish}. The prompt is
 * evaluated on the first read.
 * {@link #cancel()} may come from any thread; the engine stops before its next token.
 */
final class Generation implements TokenStream {

    /** What happens to the context when the generation ends. */
    interface Owner {
        /** Frees room in a full cache; returns false when the generation must end instead. */
        boolean makeRoom(KvCache cache);

        /** Called exactly once, when the generation has ended or was closed. */
        void finished(Generation generation);
    }

    private final NativeModel model;
    private final KvCache cache;
    private final NativeSampler sampler;
    private final int[] prompt;
    private final SamplingParams params;
    private final TextAssembler assembler;
    private final String modelId;
    private final String providerId;
    private final Owner owner;
    private final int limit; // max_tokens, or one window's worth when unset, so no answer runs forever
    private final long startNanos = System.nanoTime();
    private final ReentrantLock lock = new ReentrantLock();
    private final StringBuilder text = new StringBuilder();
    private final List<TokenLogprob> logprobs = new java.util.ArrayList<>();
    private int logprobsTaken;

    private volatile boolean cancelled;
    private boolean started;
    private int cachedTokens;
    private int generated;
    private int[] generatedIds = new int[32];
    private int pendingToken = -1; // sampled, not yet evaluated
    private long firstTokenNanos;
    private long endNanos;
    private FinishReason finishReason;
    private String nextPiece;
    private boolean finishSent;
    private boolean released;

    Generation(NativeModel model, KvCache cache, NativeSampler sampler, int[] prompt, SamplingParams params,
               List<String> stops, String modelId, String providerId, Owner owner) {
        this.model = model;
        this.cache = cache;
        this.sampler = sampler;
        this.prompt = prompt;
        this.params = params;
        this.assembler = new TextAssembler(stops);
        this.modelId = modelId;
        this.providerId = providerId;
        this.owner = owner;
        this.limit = params.maxTokens() > 0 ? params.maxTokens() : cache.capacity();
    }

    @Override
    public boolean hasNext() {
        lock.lock();
        try {
            while (nextPiece == null && finishReason == null) {
                step();
            }
            if (nextPiece == null && finishSent) {
                release(); // ended, and everything was handed out
            }
            return nextPiece != null || !finishSent;
        } catch (RuntimeException e) {
            finish(FinishReason.STOP);
            release();
            throw e;
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
            if (nextPiece != null) {
                String piece = nextPiece;
                nextPiece = null;
                List<TokenLogprob> lp = logprobsTaken == logprobs.size() ? List.of()
                        : List.copyOf(logprobs.subList(logprobsTaken, logprobs.size()));
                logprobsTaken = logprobs.size();
                return new StreamEvent.Text(piece, lp);
            }
            finishSent = true;
            release();
            return new StreamEvent.Finish(finishReason, usage());
        } finally {
            lock.unlock();
        }
    }

    private Usage usage() {
        return new Usage(prompt.length, cachedTokens, generated);
    }

    /** Evaluates what is pending and samples one token. */
    private void step() {
        if (cancelled) {
            finish(FinishReason.CANCELLED);
            return;
        }
        if (!started) {
            started = true;
            cache.threads().join();
            cachedTokens = cache.keepCommonPrefix(prompt);
            cache.append(prompt, cachedTokens);
        } else if (pendingToken >= 0) {
            if (cache.size() >= cache.capacity() && !owner.makeRoom(cache)) {
                finish(FinishReason.LENGTH);
                return;
            }
            cache.appendOne(pendingToken);
            pendingToken = -1;
        }
        if (cancelled) {
            finish(FinishReason.CANCELLED);
            return;
        }
        float[] logits = params.logprobs() >= 0 ? cache.context().lastLogits() : null;
        int token = cache.context().sample(sampler);
        if (generated == 0) {
            firstTokenNanos = System.nanoTime();
        }
        if (model.isEndOfGeneration(token)) {
            finish(FinishReason.STOP);
            return;
        }
        if (generated == generatedIds.length) {
            generatedIds = java.util.Arrays.copyOf(generatedIds, generated * 2);
        }
        generatedIds[generated++] = token;
        pendingToken = token;
        if (logits != null) {
            logprobs.add(Logprobs.of(model, logits, token, params.logprobs()));
        }
        emit(assembler.append(model.piece(token)));
        if (assembler.stopped()) {
            finish(FinishReason.STOP);
        } else if (generated >= limit) {
            finish(FinishReason.LENGTH);
        }
    }

    private void emit(String piece) {
        if (!piece.isEmpty()) {
            text.append(piece);
            nextPiece = nextPiece == null ? piece : nextPiece + piece;
        }
    }

    private void finish(FinishReason reason) {
        if (finishReason != null) {
            return;
        }
        if (reason != FinishReason.CANCELLED) {
            emit(assembler.flush());
        }
        finishReason = reason;
        endNanos = System.nanoTime();
        if (nextPiece == null) {
            release();
        }
    }

    /** Gives the context back once; the last sampled token is not in the cache. */
    private void release() {
        if (!released) {
            released = true;
            if (started) {
                cache.threads().leave();
            }
            try {
                sampler.close();
            } finally {
                owner.finished(this);
            }
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    @Override
    public ChatResult result() {
        while (hasNext()) {
            next();
        }
        lock.lock();
        try {
            release();
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
        cancelled = true;
        lock.lock();
        try {
            if (finishReason == null) {
                finishReason = FinishReason.CANCELLED;
                endNanos = System.nanoTime();
            }
            release();
        } finally {
            lock.unlock();
        }
    }

    /** How the generation ended, or null while running. */
    FinishReason finishReason() {
        return finishReason;
    }

    /** The whole text handed out so far. */
    String text() {
        return text.toString();
    }

    int generatedTokens() {
        return generated;
    }

    /** The generated tokens, in order (end-of-generation tokens are not included). */
    int[] generatedIds() {
        return java.util.Arrays.copyOf(generatedIds, generated);
    }

    /** How many of the generated tokens are in the KV cache (all but a sampled, unread last one). */
    int evaluatedGeneratedTokens() {
        return pendingToken >= 0 ? generated - 1 : generated;
    }
}

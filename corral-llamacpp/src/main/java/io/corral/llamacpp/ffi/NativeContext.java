package io.corral.llamacpp.ffi;

import io.corral.api.ContextOverflowException;
import io.corral.api.EngineException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.VarHandle;

import static io.corral.llamacpp.ffi.Llama.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A llama.cpp inference context: a KV cache of {@link #size()} tokens over one loaded model, used by
 * one thread at a time. Native calls are synchronized, so {@link #close()} from another thread waits for a
 * running one and later calls fail cleanly instead of touching freed memory. A plain context evaluates sequence 0;
 * a context for sequences ({@link #forSequences}) holds many, each in a stream of cells of its own, evaluated together
 * by {@link #decodeBatch}; an embeddings context ({@link #forEmbeddings}) evaluates several inputs at once, each its own
 * sequence, in cells they share.
 */
public final class NativeContext implements AutoCloseable {

    private static final VarHandle N_CTX = Structs.field(Structs.CONTEXT_PARAMS, "n_ctx");
    private static final VarHandle N_BATCH = Structs.field(Structs.CONTEXT_PARAMS, "n_batch");
    private static final VarHandle N_UBATCH = Structs.field(Structs.CONTEXT_PARAMS, "n_ubatch");
    private static final VarHandle N_THREADS = Structs.field(Structs.CONTEXT_PARAMS, "n_threads");
    private static final VarHandle N_THREADS_BATCH = Structs.field(Structs.CONTEXT_PARAMS, "n_threads_batch");
    private static final VarHandle NO_PERF = Structs.field(Structs.CONTEXT_PARAMS, "no_perf");
    private static final VarHandle EMBEDDINGS = Structs.field(Structs.CONTEXT_PARAMS, "embeddings");
    private static final VarHandle POOLING = Structs.field(Structs.CONTEXT_PARAMS, "pooling_type");
    private static final VarHandle N_SEQ_MAX = Structs.field(Structs.CONTEXT_PARAMS, "n_seq_max");
    private static final VarHandle KV_UNIFIED = Structs.field(Structs.CONTEXT_PARAMS, "kv_unified");
    private static final int POOLING_MEAN = 1;
    private static final VarHandle BATCH_N_TOKENS = Structs.field(Structs.BATCH, "n_tokens");
    private static final VarHandle BATCH_TOKEN = Structs.field(Structs.BATCH, "token");
    private static final VarHandle BATCH_POS = Structs.field(Structs.BATCH, "pos");
    private static final VarHandle BATCH_N_SEQ_ID = Structs.field(Structs.BATCH, "n_seq_id");
    private static final VarHandle BATCH_SEQ_ID = Structs.field(Structs.BATCH, "seq_id");
    private static final VarHandle BATCH_LOGITS = Structs.field(Structs.BATCH, "logits");

    private final NativeModel model;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ctx;
    private final MemorySegment memory;
    private final int size;
    private final int batchSize;
    // the batch, allocated once: token, pos, n_seq_id, seq_id (pointers to one shared seq id 0), logits
    private final MemorySegment batch;
    private final MemorySegment tokens;
    private final MemorySegment positions;
    private final MemorySegment logitFlags;
    private final MemorySegment seqIds;     // each token's sequence (0 but in an embeddings batch)
    private final int sequences;
    private MemorySegment embdBatch;  // a batch of embeddings (an image's), made on first use
    private MemorySegment embd;
    private MemorySegment copyBuffer; // copyPrefix's, grown to the largest sequence copied
    private boolean closed;
    private int threads;

    /**
     * @param contextSize tokens of KV cache (0 = the model's trained context)
     * @param threads     threads for generation and for prompt processing
     */
    public NativeContext(NativeModel model, int contextSize, int batchSize, int threads) {
        this(model, contextSize, batchSize, threads, 1, false);
    }

    /**
     * A context of {@code cells} KV cells split among {@code sequences} sequence ids: each has a stream of
     * {@code cells / sequences} cells of its own (llama.cpp's cache with {@code kv_unified} off, as llama-server's slots
     * have), so a token attends over its own sequence's cells only. In one unified cache, every step's attention spanned
     * the cells of every sequence: 0.86-0.90x of llama-server's tokens/s at 4-16 concurrent requests, against
     * 0.99-1.03x when llama-server was given a unified cache too ({@code bench/load.sh}). llama.cpp evaluates the
     * tokens of several streams in one pass only for sequence ids that follow each other in the batch, each one
     * greater by one ({@code split_equal}), which {@link #decodeBatch}'s callers keep to.
     */
    public static NativeContext forSequences(NativeModel model, int cells, int batchSize, int threads, int sequences) {
        return new NativeContext(model, cells, batchSize, threads, sequences, false);
    }

    /**
     * A context that pools (mean) each sequence into a vector instead of computing logits: up to
     * {@code sequences} inputs of {@code contextSize} tokens in all per evaluation ({@link #decodeSequences}).
     */
    public static NativeContext forEmbeddings(NativeModel model, int contextSize, int threads, int sequences) {
        return new NativeContext(model, contextSize, contextSize, threads, sequences, true);
    }

    private NativeContext(NativeModel model, int contextSize, int batchSize, int threads, int sequences, boolean embeddings) {
        this.model = model;
        this.sequences = sequences;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment params = (MemorySegment) Llama.context_default_params.invokeExact((SegmentAllocator) tmp);
            N_CTX.set(params, 0L, contextSize);
            N_BATCH.set(params, 0L, batchSize);
            N_UBATCH.set(params, 0L, batchSize);
            N_THREADS.set(params, 0L, threads);
            N_THREADS_BATCH.set(params, 0L, threads);
            NO_PERF.set(params, 0L, true);
            if (embeddings) {
                EMBEDDINGS.set(params, 0L, true);
                POOLING.set(params, 0L, POOLING_MEAN);
            }
            if (sequences > 1) {
                N_SEQ_MAX.set(params, 0L, sequences);
                // an embeddings context's inputs share its cells; a context for sequences gives each a stream
                KV_UNIFIED.set(params, 0L, embeddings);
            }
            LlamaLibrary.takeRecentErrors();
            ctx = (MemorySegment) Llama.init_from_model.invokeExact(model.pointer(), params);
            if (ctx.equals(MemorySegment.NULL)) {
                throw new EngineException("llama.cpp could not create a context of " + contextSize + " tokens"
                        + (sequences > 1 && !embeddings ? " (" + sequences + " sequences of " + contextSize / sequences + ")" : "") + ": "
                        + LlamaLibrary.takeRecentErrors());
            }
            memory = (MemorySegment) Llama.get_memory.invokeExact(ctx);
            size = (int) Llama.n_ctx.invokeExact(ctx);
        } catch (Throwable t) {
            arena.close();
            throw rethrow(t);
        }
        this.batchSize = batchSize;
        this.threads = threads;
        tokens = arena.allocate(JAVA_INT, batchSize);
        positions = arena.allocate(JAVA_INT, batchSize);
        logitFlags = arena.allocate(JAVA_BYTE, batchSize);
        MemorySegment nSeqIds = arena.allocate(JAVA_INT, batchSize);
        MemorySegment seqIdPointers = arena.allocate(ADDRESS, batchSize);
        seqIds = arena.allocate(JAVA_INT, batchSize); // zeroed
        for (int i = 0; i < batchSize; i++) {
            nSeqIds.setAtIndex(JAVA_INT, i, 1);
            seqIdPointers.setAtIndex(ADDRESS, i, seqIds.asSlice((long) i * Integer.BYTES, Integer.BYTES));
        }
        batch = arena.allocate(Structs.BATCH);
        BATCH_TOKEN.set(batch, 0L, tokens);
        BATCH_POS.set(batch, 0L, positions);
        BATCH_N_SEQ_ID.set(batch, 0L, nSeqIds);
        BATCH_SEQ_ID.set(batch, 0L, seqIdPointers);
        BATCH_LOGITS.set(batch, 0L, logitFlags);
    }

    public NativeModel model() {
        return model;
    }

    /** Capacity of the KV cache in tokens. */
    public int size() {
        return size;
    }

    /**
     * Evaluates {@code tokens[from, to)} at positions {@code startPos...}, in chunks of the batch size,
     * computing logits for the last one only. Throws {@link ContextOverflowException} when the KV cache
     * has no room left.
     */
    public void decode(int[] input, int from, int to, int startPos) {
        decode(0, input, from, to, startPos);
    }

    /** {@link #decode(int[], int, int, int)} on sequence {@code seq}. */
    public synchronized void decode(int seq, int[] input, int from, int to, int startPos) {
        if (startPos + (to - from) > size) {
            throw new ContextOverflowException("context window of " + size + " tokens is full ("
                    + startPos + " used, " + (to - from) + " more needed)");
        }
        for (int chunk = from; chunk < to; chunk += batchSize) {
            int n = Math.min(batchSize, to - chunk);
            for (int i = 0; i < n; i++) {
                tokens.setAtIndex(JAVA_INT, i, input[chunk + i]);
                positions.setAtIndex(JAVA_INT, i, startPos + (chunk - from) + i);
                seqIds.setAtIndex(JAVA_INT, i, seq);
                logitFlags.set(JAVA_BYTE, i, (byte) (chunk + i == to - 1 ? 1 : 0));
            }
            if (!decodeFilled(n)) {
                throw new ContextOverflowException("no room in the KV cache for " + n + " more tokens");
            }
        }
    }

    /**
     * Evaluates one batch of {@code n} tokens, token {@code i} at {@code pos[i]} of sequence {@code seq[i]}, with
     * logits computed where {@code logits[i]}; read them with {@link #sample(NativeSampler, int)} and
     * {@link #logits(int)} by batch index. Returns false, having evaluated nothing, when the KV cache has no room.
     */
    public synchronized boolean decodeBatch(int[] token, int[] pos, int[] seq, boolean[] logits, int n) {
        if (n > batchSize) {
            throw new IllegalArgumentException(n + " tokens do not fit a batch of " + batchSize);
        }
        for (int i = 0; i < n; i++) {
            tokens.setAtIndex(JAVA_INT, i, token[i]);
            positions.setAtIndex(JAVA_INT, i, pos[i]);
            seqIds.setAtIndex(JAVA_INT, i, seq[i]);
            logitFlags.set(JAVA_BYTE, i, (byte) (logits[i] ? 1 : 0));
        }
        return decodeFilled(n);
    }

    /**
     * Evaluates rows {@code [from, from + n)} of {@code embeddings} (rows of the model's width: an image's, from its
     * projector) at positions {@code startPos...} of sequence {@code seq}, without logits; with non-causal attention
     * when {@code nonCausal} (the image's tokens see each other, as some models' projectors need), with logits for
     * the last row when {@code logitsLast} (read them by batch index {@code n - 1}). {@code n} is at most the batch
     * size. Returns false, having evaluated nothing, when the KV cache has no room.
     */
    public synchronized boolean decodeEmbeddings(float[] embeddings, int from, int n, int startPos, int seq, boolean nonCausal,
                                                 boolean logitsLast) {
        if (n > batchSize) {
            throw new IllegalArgumentException(n + " rows do not fit a batch of " + batchSize);
        }
        int width = model.embeddingSize();
        if (embdBatch == null) {
            embd = arena.allocate(JAVA_FLOAT, (long) batchSize * width);
            embdBatch = arena.allocate(Structs.BATCH);
            embdBatch.copyFrom(batch);
            BATCH_TOKEN.set(embdBatch, 0L, MemorySegment.NULL);
            Structs.field(Structs.BATCH, "embd").set(embdBatch, 0L, embd);
        }
        MemorySegment.copy(embeddings, from * width, embd, JAVA_FLOAT, 0, n * width);
        for (int i = 0; i < n; i++) {
            positions.setAtIndex(JAVA_INT, i, startPos + i);
            seqIds.setAtIndex(JAVA_INT, i, seq);
            logitFlags.set(JAVA_BYTE, i, (byte) (logitsLast && i == n - 1 ? 1 : 0));
        }
        try {
            if (nonCausal) {
                Llama.set_causal_attn.invokeExact(pointer(), false);
            }
            try {
                return decodeFilled(embdBatch, n);
            } finally {
                if (nonCausal) {
                    Llama.set_causal_attn.invokeExact(pointer(), true);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Decodes the first {@code n} tokens of the batch as filled; false when the KV cache has no room for them. */
    private boolean decodeFilled(int n) {
        return decodeFilled(batch, n);
    }

    private boolean decodeFilled(MemorySegment batch, int n) {
        BATCH_N_TOKENS.set(batch, 0L, n);
        int rc;
        try {
            rc = (int) Llama.decode.invokeExact(pointer(), batch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0 && rc != 1) {
            throw new EngineException("llama_decode failed with code " + rc + ": " + LlamaLibrary.takeRecentErrors());
        }
        return rc == 0;
    }

    /** Changes the threads evaluations use (cheap; takes effect at the next one). */
    public synchronized void setThreads(int n) {
        if (n != threads) {
            try {
                Llama.set_n_threads.invokeExact(pointer(), n, n);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            threads = n;
        }
    }

    /** Evaluates one token at {@code pos}. */
    public void decodeOne(int token, int pos) {
        decode(new int[]{token}, 0, 1, pos);
    }

    /** The logits of the last evaluated token, one per vocabulary entry. */
    public float[] lastLogits() {
        return logits(-1);
    }

    /** The logits of the batch's token {@code index} (-1: the last one with logits). */
    public synchronized float[] logits(int index) {
        try {
            MemorySegment p = (MemorySegment) Llama.get_logits_ith.invokeExact(pointer(), index);
            return p.reinterpret((long) model.vocabSize() * Float.BYTES).toArray(JAVA_FLOAT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** How many sequences the context holds (inputs an embeddings context evaluates at once). */
    public int sequences() {
        return sequences;
    }

    /**
     * Evaluates several inputs in one batch, input {@code i} as sequence {@code i} from position 0, on an empty
     * cache (an embeddings context): at most {@link #sequences()} inputs, {@link #size()} tokens in all.
     */
    public synchronized void decodeSequences(java.util.List<int[]> inputs) {
        int total = 0;
        for (int[] in : inputs) {
            total += in.length;
        }
        if (inputs.size() > sequences || total > Math.min(size, batchSize)) {
            throw new IllegalArgumentException(inputs.size() + " inputs of " + total + " tokens do not fit one evaluation");
        }
        int at = 0;
        for (int s = 0; s < inputs.size(); s++) {
            int[] in = inputs.get(s);
            for (int i = 0; i < in.length; i++, at++) {
                tokens.setAtIndex(JAVA_INT, at, in[i]);
                positions.setAtIndex(JAVA_INT, at, i);
                seqIds.setAtIndex(JAVA_INT, at, s);
                logitFlags.set(JAVA_BYTE, at, (byte) 1); // pooling reads every token's output
            }
        }
        BATCH_N_TOKENS.set(batch, 0L, total);
        int rc;
        try {
            Llama.memory_clear.invokeExact(memory, true);
            rc = (int) Llama.decode.invokeExact(pointer(), batch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw new EngineException("llama_decode failed with code " + rc + ": " + LlamaLibrary.takeRecentErrors());
        }
    }

    /** The pooled embedding of sequence {@code seq}, just evaluated (an embeddings context only). */
    public synchronized float[] pooledEmbedding(int seq, int dimensions) {
        try {
            MemorySegment p = (MemorySegment) Llama.get_embeddings_seq.invokeExact(pointer(), seq);
            if (p.equals(MemorySegment.NULL)) {
                throw new EngineException("llama.cpp returned no embedding: " + LlamaLibrary.takeRecentErrors());
            }
            return p.reinterpret((long) dimensions * Float.BYTES).toArray(JAVA_FLOAT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Samples the next token from the last evaluated position (and lets the sampler see it). */
    public int sample(NativeSampler sampler) {
        return sample(sampler, -1);
    }

    /**
     * Samples from the logits of the batch's token {@code index} (and lets the sampler see the token). A greedy chain
     * with nothing before it is a scan for the largest logit, done here: llama.cpp's copies the whole vocabulary into
     * candidates first, 5-6x the time on a 128k vocabulary (0.36-0.44 against 0.06-0.08 ms a token in the server), once a
     * sequence a step.
     */
    public synchronized int sample(NativeSampler sampler, int index) {
        try {
            MemorySegment chain = sampler.pointer();
            if (sampler.greedy()) {
                MemorySegment p = (MemorySegment) Llama.get_logits_ith.invokeExact(pointer(), index);
                if (!p.equals(MemorySegment.NULL)) {
                    int n = model.vocabSize();
                    return argmax(p.reinterpret((long) n * Float.BYTES), n);
                }
            }
            return (int) Llama.sampler_sample.invokeExact(chain, pointer(), index);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The first index of the largest of {@code n} floats, as llama.cpp's greedy sampler picks. */
    static int argmax(MemorySegment values, int n) {
        int best = 0;
        float max = values.getAtIndex(JAVA_FLOAT, 0);
        for (int i = 1; i < n; i++) {
            float v = values.getAtIndex(JAVA_FLOAT, i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    /** Forgets everything in the KV cache. */
    public synchronized void clear() {
        try {
            Llama.memory_clear.invokeExact(memory, true);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Removes positions {@code [p0, p1)} ({@code p1 < 0}: to the end) of sequence {@code seq}. */
    public synchronized boolean remove(int seq, int p0, int p1) {
        try {
            return (boolean) Llama.memory_seq_rm.invokeExact(memory, seq, p0, p1);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds {@code delta} to sequence {@code seq}'s positions in {@code [p0, p1)} (a KV shift: RoPE is re-applied). */
    public synchronized void shift(int seq, int p0, int p1, int delta) {
        try {
            Llama.memory_seq_add.invokeExact(memory, seq, p0, p1, delta);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Makes sequence {@code dst} (in another stream) hold the first {@code count} positions of {@code src}: its cells
     * are read out and written into {@code dst}'s stream, then cut to {@code count}; false (and {@code dst} empty) if
     * llama.cpp refused them. Not {@code llama_memory_seq_cp}: between streams it copies a whole stream's buffers, a
     * window of cells whatever is used, at the next decode, so a state read or written before that decode would see
     * the copy undone; this copy is done when it returns and moves the cells in use only.
     */
    public synchronized boolean copyPrefix(int src, int dst, int count) {
        try {
            long n = (long) Llama.state_seq_get_size.invokeExact(pointer(), src);
            if (copyBuffer == null || copyBuffer.byteSize() < n) {
                copyBuffer = arena.allocate(Math.max(n, 1 << 20)); // kept: a fresh one is zeroed and faulted in each time
            }
            MemorySegment buf = copyBuffer;
            long written = (long) Llama.state_seq_get_data.invokeExact(pointer(), buf, n, src);
            remove(dst, -1, -1);
            if ((long) Llama.state_seq_set_data.invokeExact(pointer(), buf, written, dst) <= 0) {
                remove(dst, -1, -1);
                return false;
            }
            remove(dst, count, -1);
            return true;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether positions can be shifted (false for some architectures). */
    public synchronized boolean canShift() {
        try {
            return (boolean) Llama.memory_can_shift.invokeExact(memory);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The highest position of sequence {@code seq}, or -1 when it is empty. */
    public synchronized int maxPosition(int seq) {
        try {
            return (int) Llama.memory_seq_pos_max.invokeExact(memory, seq);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sequence {@code seq}'s KV cells as bytes, for {@link #restoreState}. */
    public synchronized byte[] saveState(int seq) {
        try (Arena tmp = Arena.ofConfined()) {
            long n = (long) Llama.state_seq_get_size.invokeExact(pointer(), seq);
            MemorySegment buf = tmp.allocate(Math.max(1, n));
            long written = (long) Llama.state_seq_get_data.invokeExact(pointer(), buf, n, seq);
            return buf.asSlice(0, written).toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Replaces sequence {@code seq}'s cells with a saved state; false if llama.cpp refused it. */
    public synchronized boolean restoreState(int seq, byte[] state) {
        try (Arena tmp = Arena.ofConfined()) {
            remove(seq, -1, -1);
            MemorySegment buf = tmp.allocate(Math.max(1, state.length));
            MemorySegment.copy(state, 0, buf, JAVA_BYTE, 0, state.length);
            long read = (long) Llama.state_seq_set_data.invokeExact(pointer(), buf, (long) state.length, seq);
            return read > 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment pointer() {
        if (closed) {
            throw new IllegalStateException("context is closed");
        }
        return ctx;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                Llama.free.invokeExact(ctx);
            } catch (Throwable t) {
                throw rethrow(t);
            } finally {
                arena.close();
            }
        }
    }
}

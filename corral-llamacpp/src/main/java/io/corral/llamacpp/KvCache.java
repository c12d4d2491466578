package io.corral.llamacpp;

import io.corral.api.ContextOverflowException;
import io.corral.llamacpp.ffi.NativeContext;

import java.util.Arrays;

/**
 * One sequence of the engine's KV cache: its tokens in position order, of which the first {@link #resident()} are in
 * the cells of its sequence id's stream (the rest were evicted and are evaluated again when next used). A sequence holds
 * a sequence id only while resident. A prefix taken from another sequence is a copy ({@link NativeContext#copyPrefix}),
 * so no cell belongs to two sequences. An evicted session's cells may be kept as bytes ({@link #park}) and written back
 * when it has a stream again. Only the {@link Scheduler}'s thread touches a cache.
 */
final class KvCache {

    private final NativeContext context;
    private final int window;
    private int[] tokens = new int[64];
    private int size;
    private int resident;
    private int seq = -1;
    /** The cells of the first {@link #keptTokens} tokens as bytes, while parked; null otherwise. */
    private byte[] kept;
    private int keptTokens;
    /** Busy while a generation runs on it; an idle cache is a prompt cache the scheduler may evict. */
    boolean busy;
    /** The scheduler's step when the cache was last used (least recently used goes first). */
    long lastUsed;
    /** Whether a session holds the cache (evicted after the stateless ones). */
    final boolean session;

    KvCache(NativeContext context, int window, boolean session) {
        this.context = context;
        this.window = window;
        this.session = session;
    }

    /** Tokens in the sequence, resident or not. */
    int size() {
        return size;
    }

    /** The most tokens one sequence holds: the context window of a request. */
    int capacity() {
        return window;
    }

    /** How many of the first tokens are in the cache's cells. */
    int resident() {
        return resident;
    }

    int seq() {
        return seq;
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, size);
    }

    /** Gives the cache a sequence id (it holds no cells yet). */
    void assign(int seqId) {
        seq = seqId;
        resident = 0;
    }

    /** Frees the cells, kept ones too, and the sequence id; the tokens are kept. */
    void evict() {
        if (seq >= 0) {
            context.remove(seq, -1, -1);
        }
        seq = -1;
        resident = 0;
        dropKept();
    }

    /**
     * Evicts the sequence, keeping its cells as bytes when all its tokens are resident; returns how many tokens they
     * hold (0 if none are kept).
     */
    int park() {
        byte[] state = seq >= 0 && resident == size && size > 0 ? context.saveState(seq) : null;
        evict();
        kept = state;
        keptTokens = state == null ? 0 : size;
        return keptTokens;
    }

    /** Writes the kept cells, as many as still match its tokens, into the sequence's new and empty stream. */
    void unpark() {
        if (kept != null && seq >= 0) {
            writeCells(kept, keptTokens);
        }
        dropKept();
    }

    /**
     * Writes saved cells into the sequence's empty stream and keeps those of the first {@code count} tokens; none when
     * llama.cpp refuses them or they hold fewer (the tokens are then evaluated again when next used).
     */
    private boolean writeCells(byte[] state, int count) {
        if (context.restoreState(seq, state) && context.maxPosition(seq) >= count - 1) {
            context.remove(seq, count, -1);
            resident = count;
            return true;
        }
        context.remove(seq, -1, -1);
        return false;
    }

    /** Forgets the kept cells (the tokens are evaluated again when next used). */
    void dropKept() {
        kept = null;
        keptTokens = 0;
    }

    /** Moves the resident cells to the empty stream of sequence id {@code to}, which the cache holds from now on. */
    void moveTo(int to) {
        if (resident > 0 && !context.copyPrefix(seq, to, resident)) {
            resident = 0; // llama.cpp refused the cells: evaluated again when next used
        }
        context.remove(seq, -1, -1);
        seq = to;
    }

    /** How many of the resident tokens {@code prompt} starts with, at most all but its last token. */
    int commonPrefix(int[] prompt) {
        int limit = Math.min(resident, prompt.length - 1);
        int common = 0;
        while (common < limit && tokens[common] == prompt[common]) {
            common++;
        }
        return common;
    }

    /** Makes this sequence hold the first {@code count} tokens of {@code source}, copied into its own stream. */
    void copyFrom(KvCache source, int count) {
        truncate(0);
        if (context.copyPrefix(source.seq, seq, count)) {
            ensureCapacity(count);
            System.arraycopy(source.tokens, 0, tokens, 0, count);
            size = resident = count;
        }
    }

    /**
     * Keeps the longest resident prefix shared with {@code prompt} (never all of it: the last prompt token
     * must be evaluated again for its logits), drops the rest, and returns how many tokens were kept.
     */
    int keepCommonPrefix(int[] prompt) {
        truncate(commonPrefix(prompt));
        return size;
    }

    /** Records that {@code input[from, to)} was just evaluated after the resident tokens. */
    void evaluated(int[] input, int from, int to) {
        if (resident != size) {
            throw new IllegalStateException("tokens appended after evicted ones");
        }
        ensureCapacity(size + to - from);
        System.arraycopy(input, from, tokens, size, to - from);
        size += to - from;
        resident = size;
    }

    /** Evaluates the tokens that are not resident, alone (on the scheduler's thread, between steps). */
    void restoreResident() {
        if (resident < size) {
            if (size > window) {
                throw new ContextOverflowException(size + " tokens do not fit the context window of " + window);
            }
            context.remove(seq, resident, -1);
            context.decode(seq, tokens, resident, size, resident);
            resident = size;
        }
    }

    /** Drops tokens after position {@code to}. */
    void truncate(int to) {
        if (to < size) {
            if (resident > to && seq >= 0) {
                context.remove(seq, to, -1);
            }
            size = to;
            resident = Math.min(resident, to);
            cutKept(to);
        }
    }

    /** The kept cells cover at most the first {@code to} tokens from now on. */
    private void cutKept(int to) {
        keptTokens = Math.min(keptTokens, to);
        if (keptTokens == 0) {
            kept = null;
        }
    }

    /**
     * Removes {@code count} tokens starting at {@code start} and moves the later ones down: in place when they are
     * resident and the model can shift positions; otherwise they are left to be evaluated again.
     */
    void dropRange(int start, int count) {
        if (count <= 0) {
            return;
        }
        int end = start + count;
        boolean inPlace = seq >= 0 && resident == size && context.canShift();
        if (inPlace) {
            context.remove(seq, start, end);
            context.shift(seq, end, -1, -count);
        } else if (seq >= 0 && resident > start) {
            context.remove(seq, start, -1);
        }
        System.arraycopy(tokens, end, tokens, start, size - end);
        cutKept(start);
        size -= count;
        resident = inPlace ? size : Math.min(resident, start);
    }

    /** Forgets every token. */
    void clear() {
        truncate(0);
    }

    /** Makes the sequence {@code newTokens}, none of them resident (evaluated when next used); returns this. */
    KvCache set(int[] newTokens) {
        clear();
        ensureCapacity(newTokens.length);
        System.arraycopy(newTokens, 0, tokens, 0, newTokens.length);
        size = newTokens.length;
        return this;
    }

    /**
     * Replaces the sequence with a saved one. The tokens are what counts: cells llama.cpp refuses (saved by an engine
     * with another number of streams, say) are left out, and the tokens are evaluated again when next used, as those
     * of a state saved while not resident are.
     */
    void restore(int[] savedTokens, byte[] state) {
        set(savedTokens);
        if (state.length > 0 && seq >= 0 && !writeCells(state, size)) {
            System.getLogger(KvCache.class.getName()).log(System.Logger.Level.INFO, "a saved session's cells were not taken (saved by "
                    + "an engine with another number of lanes, or another model): its " + size + " tokens are evaluated again");
        }
    }

    /**
     * The cells as bytes when all tokens are resident or kept, else none (they are evaluated again on restore).
     */
    byte[] state() {
        if (kept != null && keptTokens == size && size > 0) {
            return kept;
        }
        return seq >= 0 && resident == size && size > 0 ? context.saveState(seq) : new byte[0];
    }

    private void ensureCapacity(int n) {
        if (n > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(n, tokens.length * 2));
        }
    }
}

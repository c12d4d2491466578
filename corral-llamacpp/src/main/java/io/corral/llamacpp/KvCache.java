package io.corral.llamacpp;

import io.corral.api.ContextOverflowException;
import io.corral.llamacpp.ffi.NativeContext;

import java.util.Arrays;

/**
 * A context's KV cache and the tokens in it, in position order: what has been evaluated, so what
 * need not be again. All edits go through llama.cpp's memory functions; nothing is rebuilt unless the
 * model's memory cannot shift positions.
 */
final class KvCache {

    private final NativeContext context;
    private final ThreadBudget threads;
    private int[] tokens = new int[64];
    private int size;

    KvCache(NativeContext context, ThreadBudget threads) {
        this.context = context;
        this.threads = threads;
    }

    ThreadBudget threads() {
        return threads;
    }

    NativeContext context() {
        return context;
    }

    int size() {
        return size;
    }

    int capacity() {
        return context.size();
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, size);
    }

    /**
     * Keeps the longest prefix shared with {@code prompt} (but never all of it: the last prompt token
     * must be evaluated again for its logits), drops the rest, and returns how many tokens were kept.
     */
    int keepCommonPrefix(int[] prompt) {
        int common = 0;
        while (common < size && common < prompt.length && tokens[common] == prompt[common]) {
            common++;
        }
        if (common == prompt.length) {
            common--;
        }
        truncate(Math.max(common, 0));
        return size;
    }

    /** Evaluates {@code input[from...]} after what is cached. */
    void append(int[] input, int from) {
        if (size + input.length - from > capacity()) {
            throw new ContextOverflowException("prompt needs " + (size + input.length - from)
                    + " tokens but the context window holds " + capacity());
        }
        context.setThreads(threads.share());
        context.decode(input, from, input.length, size);
        for (int i = from; i < input.length; i++) {
            push(input[i]);
        }
    }

    void appendOne(int token) {
        context.setThreads(threads.share());
        context.decodeOne(token, size);
        push(token);
    }

    /** Drops tokens after position {@code to}. */
    void truncate(int to) {
        if (to < size) {
            context.remove(to, -1);
            size = to;
        }
    }

    /** Removes {@code count} tokens starting at {@code start} and moves the later ones down. */
    void dropRange(int start, int count) {
        if (count <= 0) {
            return;
        }
        int end = start + count;
        if (context.canShift()) {
            context.remove(start, end);
            context.shift(end, -1, -count);
            System.arraycopy(tokens, end, tokens, start, size - end);
            size -= count;
        } else {
            int[] kept = new int[size - count];
            System.arraycopy(tokens, 0, kept, 0, start);
            System.arraycopy(tokens, end, kept, start, size - end);
            clear();
            append(kept, 0);
        }
    }

    void clear() {
        context.clear();
        size = 0;
    }

    /** Replaces the cache with a saved one; false if the engine refused the state. */
    boolean restore(int[] savedTokens, byte[] state) {
        clear();
        if (!context.restoreState(state) || context.maxPosition() != savedTokens.length - 1) {
            clear();
            return false;
        }
        tokens = Arrays.copyOf(savedTokens, Math.max(64, savedTokens.length));
        size = savedTokens.length;
        return true;
    }

    private void push(int token) {
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
        }
        tokens[size++] = token;
    }
}

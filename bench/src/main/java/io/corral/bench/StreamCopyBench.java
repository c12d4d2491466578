package io.corral.bench;

import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What the in-process engine's prompt cache pays to copy a cached prefix into another stream of the KV cache
 * ({@link NativeContext#copyPrefix}) against reading those tokens again, in one run: a prompt of {@code tokens} is
 * evaluated once, then copied to another stream {@code rounds} times (after one copy to warm up), then evaluated again.
 */
public final class StreamCopyBench {

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        int tokens = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int window = Math.max(1536, tokens + 64);
        try (NativeModel model = NativeModel.load(file);
             NativeContext context = NativeContext.forSequences(model, window * 17, 512, Runtime.getRuntime().availableProcessors(), 17)) {
            int[] prompt = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                prompt[i] = 100 + (i * 37) % 5000;
            }
            long t0 = System.nanoTime();
            context.decode(0, prompt, 0, tokens, 0);
            double evaluate = (System.nanoTime() - t0) / 1e6;
            if (!context.copyPrefix(0, 1, tokens)) {
                throw new IllegalStateException("llama.cpp refused the copy");
            }
            double[] copies = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                t0 = System.nanoTime();
                context.copyPrefix(0, 2 + r % 15, tokens);
                copies[r] = (System.nanoTime() - t0) / 1e6;
                if (context.maxPosition(2 + r % 15) != tokens - 1) {
                    throw new IllegalStateException("the copy holds " + (context.maxPosition(2 + r % 15) + 1) + " positions");
                }
            }
            context.remove(16, -1, -1);
            t0 = System.nanoTime();
            context.decode(16, prompt, 0, tokens, 0);
            double again = (System.nanoTime() - t0) / 1e6;
            Arrays.sort(copies);
            double copy = copies[rounds / 2];
            System.out.printf("%d tokens: evaluated in %.0f ms and %.0f ms; copied to another stream in %.1f ms (median of %d, %.1f-%.1f)%n",
                    tokens, evaluate, again, copy, rounds, copies[0], copies[rounds - 1]);
            System.out.printf("a copy costs %.4fx reading the tokens again, as much as %.1f tokens' evaluation%n",
                    copy / again, copy / (again / tokens));
        }
    }
}

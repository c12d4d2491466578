package io.corral.bench;

import io.corral.api.CompletionRequest;
import io.corral.api.SamplingParams;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Aggregate generation speed of N concurrent requests on one model, in-process: decoded together in one batch
 * per step (lanes = N, the engine's continuous batching) against one lane (a request at a time). Configurations
 * alternate per round.
 *
 * <p>Usage: {@code ConcurrencyBench MODEL.gguf [streams] [tokens] [rounds]}
 */
public final class ConcurrencyBench {

    static final int WINDOW = 1536;

    record Setup(String name, int lanes, boolean idleWindow) {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int cores = Runtime.getRuntime().availableProcessors();
        List<Setup> setups = List.of(
                new Setup("batched: " + streams + " lanes, " + cores + " threads", streams, false),
                new Setup("batched, beside a window of idle cached cells", streams, true),
                new Setup("one lane: a request at a time, " + cores + " threads (baseline)", 1, false));
        double[][] speeds = new double[setups.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int s = 0; s < setups.size(); s++) {
                Setup setup = setups.get(s);
                speeds[s][r] = run(model, setup, streams, tokens);
                System.err.printf("round %d  %-45s %.2f tok/s%n", r + 1, setup.name(), speeds[s][r]);
            }
        }
        System.out.printf("| %d streams x %d tokens | aggregate tok/s (median of %d) |%n|---|---|%n", streams, tokens, rounds);
        for (int s = 0; s < setups.size(); s++) {
            double[] v = speeds[s].clone();
            java.util.Arrays.sort(v);
            System.out.printf("| %s | %.2f |%n", setups.get(s).name(), v[v.length / 2]);
        }
    }

    /** Runs {@code total} requests at once on the setup's lanes; returns generated tokens per second. */
    static double run(Path model, Setup setup, int total, int tokens) throws Exception {
        LlamaCppConfig config = LlamaCppConfig.of(model).withContextSize(WINDOW).withParallel(setup.lanes());
        try (LlamaCppEngine engine = LlamaCppEngine.open(config);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(tokens).build();
            SamplingParams one = SamplingParams.builder().temperature(0).maxTokens(1).build();
            engine.complete(CompletionRequest.of("warm up", one));
            if (setup.idleWindow()) { // a long prompt's cells stay cached, idle, as the last request of a busy server's
                engine.complete(CompletionRequest.of("a long document ".repeat(60), one));
            }
            long t0 = System.nanoTime();
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                String prompt = "Request " + i + " begins here";
                futures.add(pool.submit(() -> engine.complete(CompletionRequest.of(prompt, greedy)).usage().completionTokens()));
            }
            int generated = 0;
            for (Future<Integer> f : futures) {
                generated += f.get();
            }
            return generated / ((System.nanoTime() - t0) / 1e9);
        }
    }
}

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
 * Aggregate generation speed of N concurrent requests on one model, for the ways the pool can share
 * the cores: adaptively (the default), all cores for every request, or a fixed split. Configurations
 * alternate per round.
 *
 * <p>Usage: {@code ConcurrencyBench MODEL.gguf [streams] [tokens] [rounds]}
 */
public final class ConcurrencyBench {

    record Setup(String name, boolean adaptive, int threads) {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int cores = Runtime.getRuntime().availableProcessors();
        List<Setup> setups = List.of(
                new Setup("adaptive: " + cores + " threads shared by the active requests (default)", true, cores),
                new Setup("fixed: " + cores + " threads each", false, cores),
                new Setup("fixed: " + Math.max(1, cores / streams) + " thread(s) each", false, Math.max(1, cores / streams)),
                new Setup("one request at a time, " + cores + " threads (baseline)", true, cores));
        double[][] speeds = new double[setups.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int s = 0; s < setups.size(); s++) {
                Setup setup = setups.get(s);
                boolean sequential = s == setups.size() - 1;
                speeds[s][r] = run(model, setup, sequential ? 1 : streams, streams, tokens);
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

    /** Runs {@code total} requests, {@code parallel} at a time; returns generated tokens per second. */
    static double run(Path model, Setup setup, int parallel, int total, int tokens) throws Exception {
        LlamaCppConfig config = LlamaCppConfig.of(model).withContextSize(256).withThreads(setup.threads())
                .withParallel(parallel).withAdaptiveThreads(setup.adaptive());
        try (LlamaCppEngine engine = LlamaCppEngine.open(config);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(tokens).build();
            engine.complete(CompletionRequest.of("warm up", SamplingParams.builder().temperature(0).maxTokens(2).build()));
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

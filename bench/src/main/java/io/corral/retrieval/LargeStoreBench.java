package io.corral.retrieval;

import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorIoProvider.Chunk;
import io.corral.spi.VectorIoProvider.Mode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The embedded store at scale: {@code n} synthetic chunks (random unit vectors of 384 dimensions, 40 words
 * each from a vocabulary of 50,000 with a Zipf-like spread), inserted in batches and flushed; then 1,000
 * searches per mode, timed one by one (p50, p99), through the store's own query (no embedding, no HTTP).
 *   java ... io.corral.retrieval.LargeStoreBench [chunks]
 */
public final class LargeStoreBench {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int dims = 384;
        Random random = new Random(7);
        Path dir = Files.createTempDirectory("corral-large-store");
        try (LuceneVectorIo store = new LuceneVectorIo(dir)) {
            store.createStore("large", dims);
            long t0 = System.nanoTime();
            List<Chunk> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                batch.add(new Chunk("c" + i, text(random, 40), Map.of("corral.file_id", "file-" + (i / 4), "group", i % 10), vector(random, dims)));
                if (batch.size() == 10_000) {
                    store.insert("large", batch);
                    batch.clear();
                }
                if ((i + 1) % 100_000 == 0) {
                    System.out.printf("  %,d chunks inserted, %.0f s%n", i + 1, (System.nanoTime() - t0) / 1e9);
                }
            }
            store.insert("large", batch);
            store.flush("large");
            System.out.printf("%,d chunks inserted and flushed in %.0f s (%d cores)%n", store.count("large"),
                    (System.nanoTime() - t0) / 1e9, Runtime.getRuntime().availableProcessors());
            for (Mode mode : Mode.values()) {
                for (int round = 0; round < 2; round++) { // the first round warms up
                    long[] took = new long[1000];
                    for (int q = 0; q < took.length; q++) {
                        var query = new VectorIoProvider.Query(text(random, 8), vector(random, dims), mode, 10, null, Ranker.DEFAULT);
                        long s = System.nanoTime();
                        store.query("large", query);
                        took[q] = System.nanoTime() - s;
                    }
                    if (round == 1) {
                        Arrays.sort(took);
                        System.out.printf("%-7s k=10 over %,d chunks: p50 %.2f ms, p99 %.2f ms%n", mode.name().toLowerCase(), n,
                                took[500] / 1e6, took[990] / 1e6);
                    }
                }
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static float[] vector(Random random, int dims) {
        float[] v = new float[dims];
        double norm = 0;
        for (int i = 0; i < dims; i++) {
            v[i] = (float) random.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < dims; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }

    static String text(Random random, int words) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < words; i++) {
            // skewed towards small ranks, as word frequencies are
            int rank = (int) Math.floor(Math.pow(50_000, random.nextDouble()));
            b.append(i == 0 ? "" : " ").append("w").append(rank);
        }
        return b.toString();
    }
}

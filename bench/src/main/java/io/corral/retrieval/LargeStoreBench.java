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
 * searches per mode, timed one by one (p50, p99), through the store's own query (no embedding, no HTTP). Before
 * searching, the store is merged down as it does itself when left alone ({@code -Duntidy=true} searches the
 * segments as ingestion left them).
 *   java ... [-Dkeep=DIR] [-Dslow=MS] io.corral.retrieval.LargeStoreBench [chunks]
 */
public final class LargeStoreBench {

    /** -Dslow=MS: each timed query slower than this is printed with the time (to set beside what else ran). */
    private static final double SLOW = Double.parseDouble(System.getProperty("slow", "1e9"));

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int dims = 384;
        Random random = new Random(7);
        // -Dkeep=DIR: the store is built in DIR once and kept; a later run searches it again without building it
        String keep = System.getProperty("keep");
        Path dir = keep != null ? Files.createDirectories(Path.of(keep)) : Files.createTempDirectory("corral-large-store");
        boolean built = keep != null && Files.isDirectory(dir.resolve("large"));
        try (LuceneVectorIo store = new LuceneVectorIo(dir)) {
            if (built) {
                random = new Random(8); // queries other than the first run's
                n = (int) store.count("large");
                System.out.printf("%,d chunks kept in %s, %d segments%n", n, dir, store.segments("large"));
            } else {
                build(store, n, dims, random);
            }
            for (Mode mode : Mode.values()) {
                for (int round = 0; round < 2; round++) { // the first round warms up
                    long[] took = new long[1000];
                    for (int q = 0; q < took.length; q++) {
                        var query = new VectorIoProvider.Query(text(random, 8), vector(random, dims), mode, 10, null, Ranker.DEFAULT);
                        long s = System.nanoTime();
                        store.query("large", query);
                        took[q] = System.nanoTime() - s;
                        if (round == 1 && took[q] / 1e6 > SLOW) {
                            System.out.printf("  slow %s query at %d ms (epoch): %.2f ms%n", mode.name().toLowerCase(),
                                    System.currentTimeMillis(), took[q] / 1e6);
                        }
                    }
                    if (round == 1) {
                        Arrays.sort(took);
                        System.out.printf("%-7s k=10 over %,d chunks: p50 %.2f ms, p99 %.2f ms (p90 %.2f, p95 %.2f, max %.2f)%n",
                                mode.name().toLowerCase(), n, took[500] / 1e6, took[990] / 1e6, took[900] / 1e6, took[950] / 1e6,
                                took[999] / 1e6);
                    }
                }
            }
        } finally {
            if (keep == null) {
                try (var walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** Inserts {@code n} synthetic chunks in batches of 10,000, flushes, and merges the store down as it does when idle. */
    static void build(LuceneVectorIo store, int n, int dims, Random random) {
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
        System.out.printf("%,d chunks inserted and flushed in %.0f s (%d cores), %d segments%n", store.count("large"),
                (System.nanoTime() - t0) / 1e9, Runtime.getRuntime().availableProcessors(), store.segments("large"));
        if (!Boolean.getBoolean("untidy")) {
            long t1 = System.nanoTime();
            store.tidy("large"); // what the store does itself once left alone for LuceneVectorIo.IDLE
            System.out.printf("merged down (as when idle) in %.0f s: %d segments%n", (System.nanoTime() - t1) / 1e9, store.segments("large"));
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

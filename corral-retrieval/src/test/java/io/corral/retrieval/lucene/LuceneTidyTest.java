package io.corral.retrieval.lucene;

import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorIoProvider.Chunk;
import io.corral.spi.VectorIoProvider.Hit;
import io.corral.spi.VectorIoProvider.Mode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import static org.assertj.core.api.Assertions.assertThat;

/** A store left alone is merged down to a few segments, and searches the same before and after. */
class LuceneTidyTest {

    @TempDir
    Path dir;

    private final ScheduledThreadPoolExecutor tidier = new ScheduledThreadPoolExecutor(1);

    {
        tidier.setRemoveOnCancelPolicy(true); // as the store's own tidier
    }

    @AfterEach
    void stop() {
        tidier.shutdownNow();
    }

    @Test
    void anIdleStoreIsMergedDownAndFindsTheSame() {
        try (LuceneVectorIo store = new LuceneVectorIo(dir, tidier, Duration.ofHours(1))) {
            store.createStore("s", 8);
            Random random = new Random(3);
            for (int commit = 0; commit < 12; commit++) { // ingestion commits each group of files: a segment each
                List<Chunk> chunks = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    String id = commit + "-" + i;
                    chunks.add(new Chunk(id, "word" + random.nextInt(30) + " word" + random.nextInt(30) + " chunk " + id,
                            Map.of("commit", commit), vector(random)));
                }
                store.insert("s", chunks);
                store.flush("s");
            }
            assertThat(store.segments("s")).isGreaterThanOrEqualTo(12);
            // one tidy waits for the store to be left alone, however many writes asked for it
            assertThat(tidier.getQueue()).hasSize(1);
            // vectors are found by id; keyword hits by score, since BM25 ties (equal texts' scores) are broken by the
            // order of documents, which a merge changes (and hybrid fuses the two by rank)
            var vector = new VectorIoProvider.Query(null, vector(random), Mode.VECTOR, 10, null, Ranker.DEFAULT);
            var keyword = new VectorIoProvider.Query("word3 word17 chunk", null, Mode.KEYWORD, 10, null, Ranker.DEFAULT);
            List<String> nearest = ids(store.query("s", vector));
            List<Double> scores = scores(store.query("s", keyword));

            ((RunnableScheduledFuture<?>) tidier.getQueue().peek()).run(); // the store's idle time is up

            assertThat(store.segments("s")).isLessThanOrEqualTo(LuceneVectorIo.TIDY_SEGMENTS);
            assertThat(store.count("s")).isEqualTo(240);
            assertThat(nearest).hasSize(10);
            assertThat(scores).hasSize(10);
            assertThat(ids(store.query("s", vector))).isEqualTo(nearest);
            assertThat(scores(store.query("s", keyword))).isEqualTo(scores);
        }
        // the merge was committed: a store opened again finds it merged
        try (LuceneVectorIo again = new LuceneVectorIo(dir, tidier, Duration.ofHours(1))) {
            assertThat(again.segments("s")).isLessThanOrEqualTo(LuceneVectorIo.TIDY_SEGMENTS);
            assertThat(again.count("s")).isEqualTo(240);
        }
    }

    private static List<String> ids(List<Hit> hits) {
        return hits.stream().map(h -> h.chunk().id()).toList();
    }

    private static List<Double> scores(List<Hit> hits) {
        return hits.stream().map(h -> (double) (float) h.score()).toList();
    }

    private static float[] vector(Random random) {
        float[] v = new float[8];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}

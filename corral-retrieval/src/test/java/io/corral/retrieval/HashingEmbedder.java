package io.corral.retrieval;

import io.corral.api.CancelledException;
import io.corral.spi.ModelInfo;
import io.corral.spi.ModelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted {@link Embedder} for tests of the service around it: each word adds one to a slot picked by its
 * hash, so texts sharing words are near. {@link #hold()} makes embedding wait until {@link #release()}.
 */
final class HashingEmbedder implements Embedder {
    static final String MODEL = "hashing-64";
    final AtomicInteger texts = new AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);
    /** Counted down by the first embedding asked for after {@link #hold()}. */
    volatile CountDownLatch entered = new CountDownLatch(1);

    /** Makes embedding wait until {@link #release()}; {@link #entered} then says when a call is waiting. */
    void hold() {
        entered = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    void release() {
        gate.countDown();
    }

    @Override
    public List<float[]> embed(String model, List<String> inputs) {
        entered.countDown();
        try {
            gate.await();
        } catch (InterruptedException e) {
            throw new CancelledException("interrupted");
        }
        texts.addAndGet(inputs.size());
        List<float[]> out = new ArrayList<>();
        for (String t : inputs) {
            float[] v = new float[64];
            for (String w : t.toLowerCase(Locale.ROOT).split("\\W+")) {
                if (!w.isEmpty() && !Set.of("the", "a", "of", "and", "in", "on", "is").contains(w)) {
                    v[Math.floorMod(w.hashCode(), 64)] += 1;
                }
            }
            v[63] += 0.01f;
            out.add(v);
        }
        return out;
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(MODEL, "test", ModelType.EMBEDDING, 512, 64, Set.of(), Map.of()));
    }
}

package io.corral.llamacpp;

import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InvalidRequestException;
import io.corral.llamacpp.ffi.NativeContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** In-process embeddings: batched, concurrent, and shorter on request. */
class EmbeddingsTest {

    static LlamaCppEngine engine;

    @BeforeAll
    static void open() {
        engine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withThreads(1).withParallel(2));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void manyInputsInOneBatch_areTheVectorsEachWouldHaveAlone() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // more than one batch of sequences
            texts.add(i % 3 == 0 ? "The cat sat on the mat number " + i : i % 3 == 1 ? "A dog ran in the park " + i : "Lily had a red ball " + i);
        }
        EmbeddingResult batched = engine.embed(new EmbeddingRequest("stories260K", texts));
        assertThat(batched.vectors()).hasSize(40);
        for (int i : new int[]{0, 1, 2, 31, 32, 39}) {
            float[] alone = engine.embed(new EmbeddingRequest("stories260K", List.of(texts.get(i)))).vectors().getFirst();
            assertThat(cosine(batched.vectors().get(i), alone)).as("input %d", i).isGreaterThan(0.9999);
        }
        assertThat(cosine(batched.vectors().get(0), batched.vectors().get(1))).isLessThan(0.9999); // not one vector for all
        int tokens = 0;
        for (String t : texts) {
            tokens += engine.model().tokenize(t, true, false).length;
        }
        assertThat(batched.promptTokens()).isEqualTo(tokens);
    }

    @Test
    void aRequest_isServedWhileAnotherHoldsAnEmbeddingsContext() {
        NativeContext held = engine.borrowEmbedder(); // as a long request would
        try {
            assertThat(engine.embed(new EmbeddingRequest("stories260K", List.of("a cat"))).vectors()).hasSize(1);
        } finally {
            engine.giveBack(held);
        }
    }

    @Test
    void dimensions_shortenAndRenormalize_upToTheModelsOwn() {
        float[] full = engine.embed(new EmbeddingRequest("stories260K", List.of("a cat"))).vectors().getFirst();
        float[] short16 = engine.embed(new EmbeddingRequest("stories260K", List.of("a cat"), 16)).vectors().getFirst();
        assertThat(full).hasSize(64);
        assertThat(short16).hasSize(16);
        double norm = 0;
        for (float x : short16) {
            norm += x * x;
        }
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(cosine(short16, java.util.Arrays.copyOf(full, 16))).isGreaterThan(0.9999); // the same direction
        assertThatThrownBy(() -> engine.embed(new EmbeddingRequest("stories260K", List.of("a cat"), 65)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("dimensions"))
                .hasMessageContaining("at most 64");
    }

    /**
     * Embedding requests running at once share the configured threads, each on its own context: two contexts with all
     * the threads each met at llama.cpp's spinning barriers with twice the threads the cores have (2 clients: 3.5
     * requests a second against 225 from one).
     */
    @Test
    void embeddingRequestsRunningAtOnce_shareTheThreads() {
        try (LlamaCppEngine e = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withThreads(4).withParallel(2))) {
            NativeContext a = e.borrowEmbedder();
            assertThat(e.embedThreads()).as("one request running").isEqualTo(4);
            NativeContext b = e.borrowEmbedder();
            assertThat(e.embedThreads()).as("two running").isEqualTo(2);
            e.giveBack(b);
            assertThat(e.embedThreads()).as("one again").isEqualTo(4);
            e.giveBack(a);
            float[] alone = e.embed(new EmbeddingRequest("stories260K", List.of("The cat sat on the mat"))).vectors().getFirst();
            float[] shared = engine.embed(new EmbeddingRequest("stories260K", List.of("The cat sat on the mat"))).vectors().getFirst();
            assertThat(cosine(alone, shared)).as("the same vector on 4 threads as on 1").isGreaterThan(0.9999);
        }
    }
}

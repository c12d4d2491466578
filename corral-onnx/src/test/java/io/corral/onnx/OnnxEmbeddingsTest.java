package io.corral.onnx;

import io.corral.api.EmbeddingRequest;
import io.corral.api.InvalidRequestException;
import io.corral.spi.InferenceProvider;
import io.corral.testing.InferenceProviderContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** all-MiniLM-L6-v2 in-process: BERT's tokenization, sentence vectors that mean what they say, the inference contract. */
class OnnxEmbeddingsTest extends InferenceProviderContract {

    static final OnnxEmbeddings EMBEDDINGS = new OnnxEmbeddings("sentence-transformers");

    @AfterAll
    static void close() {
        EMBEDDINGS.close();
    }

    @Override
    protected InferenceProvider provider() {
        return EMBEDDINGS;
    }

    @Override
    protected String model() {
        return OnnxEmbeddings.MODEL;
    }

    static WordPiece tokenizer() throws Exception {
        try (var in = OnnxEmbeddings.class.getResourceAsStream("/all-minilm-l6-v2-q-tokenizer.json")) {
            return WordPiece.read(in);
        }
    }

    @Test
    void bertsUncasedTokenization_withItsKnownIds() throws Exception {
        WordPiece t = tokenizer();
        assertThat(t.encode("Hello, world!", 256)).containsExactly(101, 7592, 1010, 2088, 999, 102);
        // longest match first: this vocabulary has "una" and no "##aff", so una ##ffa ##ble
        assertThat(t.encode("unaffable", 256)).containsExactly(101, 14477, 20961, 3468, 102);
        assertThat(t.encode("HÉLLO   wörld", 256)).isEqualTo(t.encode("hello world", 256)); // lowercased, accents stripped
        assertThat(t.encode("word ".repeat(400), 256)).hasSize(256).endsWith(102); // truncated, [SEP] kept
    }

    static double cosine(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
        }
        return d; // both are normalized
    }

    @Test
    void vectorsMeanWhatTheTextsSay_andEachIsTheSameInAnyRequest() {
        List<String> texts = List.of("A man is eating food.", "A man is eating a piece of bread.",
                "The stock market fell sharply today.", "Share prices dropped on Wall Street.");
        var v = EMBEDDINGS.embed(new EmbeddingRequest(OnnxEmbeddings.MODEL, texts)).vectors();
        assertThat(v).hasSize(4).allSatisfy(x -> assertThat(x).hasSize(384));
        assertThat(cosine(v.get(0), v.get(1))).isGreaterThan(cosine(v.get(0), v.get(2)) + 0.3);
        assertThat(cosine(v.get(2), v.get(3))).isGreaterThan(cosine(v.get(2), v.get(1)) + 0.3);
        for (int i = 0; i < texts.size(); i++) {
            float[] alone = EMBEDDINGS.embed(new EmbeddingRequest(null, List.of(texts.get(i)))).vectors().getFirst();
            assertThat(alone).containsExactly(v.get(i)); // each input is evaluated alone: the same vector in any request
        }
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            many.add("sentence number " + i);
        }
        assertThat(EMBEDDINGS.embed(new EmbeddingRequest(null, many)).vectors()).hasSize(70); // spread over the cores
        assertThatThrownBy(() -> EMBEDDINGS.embed(new EmbeddingRequest(null, List.of("x"), 385)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("dimensions"));
        assertThat(EMBEDDINGS.embed(new EmbeddingRequest(null, List.of("x"), 128)).vectors().getFirst()).hasSize(128);
    }
}

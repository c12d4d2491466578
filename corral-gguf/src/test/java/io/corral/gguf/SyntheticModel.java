package io.corral.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a Llama GGUF model of random weights with our GGUF writer: the shape of Llama 3.2 1B (16 layers, 2048 wide,
 * GQA 32/8, 8192 FFN, 128256 tokens, tied embeddings) in Q4_0 or Q8_0 for the benches (speed does not depend on
 * weight values; block scales are kept small so activations stay finite), or a tiny one ({@link #TINY}, 64 wide, 2
 * layers) in F32 for tests that need a model of our own making. The vocabulary is a synthetic SentencePiece one (3
 * specials, 256 byte tokens, numbered pieces). {@code main} writes the bench's model: FILE [q4_0|q8_0].
 */
public final class SyntheticModel {

    public record Shape(String name, int vocab, int embd, int layers, int heads, int headsKv, int ffn, int context) {
    }

    public static final Shape LLAMA_3_2_1B = new Shape("llama-3.2-1b", 128_256, 2048, 16, 32, 8, 8192, 131_072);
    public static final Shape TINY = new Shape("tiny", 300, 64, 2, 4, 4, 128, 512);

    private SyntheticModel() {
    }

    public static Path write(Path file, Shape s, GgmlType type) throws IOException {
        if (type != GgmlType.Q4_0 && type != GgmlType.Q8_0 && type != GgmlType.F32) {
            throw new IllegalArgumentException("weights must be Q4_0, Q8_0 or F32");
        }
        SplittableRandom random = new SplittableRandom(42);
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "llama")
                .put("general.name", "synthetic-" + s.name() + "-" + type.name().toLowerCase())
                .put("general.file_type", type == GgmlType.Q4_0 ? 2 : type == GgmlType.Q8_0 ? 7 : 0)
                .put("llama.context_length", s.context())
                .put("llama.embedding_length", s.embd())
                .put("llama.block_count", s.layers())
                .put("llama.feed_forward_length", s.ffn())
                .put("llama.attention.head_count", s.heads())
                .put("llama.attention.head_count_kv", s.headsKv())
                .put("llama.rope.dimension_count", s.embd() / s.heads())
                .put("llama.rope.freq_base", 500000f)
                .put("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .put("llama.vocab_size", s.vocab());
        vocabulary(w, s.vocab());
        GgufWriter.Filler weights = weights(type, random);
        GgufWriter.Filler ones = buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        };
        int kv = s.embd() / s.heads() * s.headsKv();
        w.tensor("token_embd.weight", type, new long[]{s.embd(), s.vocab()}, weights);
        w.tensor("output_norm.weight", GgmlType.F32, new long[]{s.embd()}, ones);
        for (int i = 0; i < s.layers(); i++) {
            String b = "blk." + i + ".";
            w.tensor(b + "attn_norm.weight", GgmlType.F32, new long[]{s.embd()}, ones);
            w.tensor(b + "attn_q.weight", type, new long[]{s.embd(), s.embd()}, weights);
            w.tensor(b + "attn_k.weight", type, new long[]{s.embd(), kv}, weights);
            w.tensor(b + "attn_v.weight", type, new long[]{s.embd(), kv}, weights);
            w.tensor(b + "attn_output.weight", type, new long[]{s.embd(), s.embd()}, weights);
            w.tensor(b + "ffn_norm.weight", GgmlType.F32, new long[]{s.embd()}, ones);
            w.tensor(b + "ffn_gate.weight", type, new long[]{s.embd(), s.ffn()}, weights);
            w.tensor(b + "ffn_up.weight", type, new long[]{s.embd(), s.ffn()}, weights);
            w.tensor(b + "ffn_down.weight", type, new long[]{s.ffn(), s.embd()}, weights);
        }
        w.write(file);
        return file;
    }

    private static void vocabulary(GgufWriter w, int size) {
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = "<0x%02X>".formatted(b);
            types[3 + b] = 6;
        }
        for (int i = 259; i < size; i++) {
            tokens[i] = "\u2581t" + i;
            scores[i] = -i;
            types[i] = 1;
        }
        w.put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.scores", scores)
                .put("tokenizer.ggml.token_type", types)
                .put("tokenizer.ggml.bos_token_id", 1)
                .put("tokenizer.ggml.eos_token_id", 2)
                .put("tokenizer.ggml.unknown_token_id", 0);
    }

    /** Random quantized blocks: an fp16 scale of about 0.01, then random quants; or floats in [-0.1, 0.1). */
    private static GgufWriter.Filler weights(GgmlType type, SplittableRandom random) {
        if (type == GgmlType.F32) {
            return buf -> {
                while (buf.hasRemaining()) {
                    buf.putFloat((float) (random.nextDouble(-1, 1) * 0.1));
                }
            };
        }
        short scale = Float.floatToFloat16(0.01f);
        return buf -> {
            byte[] quants = new byte[type.bytesPerBlock - 2];
            while (buf.hasRemaining()) {
                buf.putShort(scale);
                random.nextBytes(quants);
                buf.put(quants);
            }
        };
    }

    public static void main(String[] args) throws IOException {
        GgmlType type = GgmlType.valueOf(args.length > 1 ? args[1].toUpperCase() : "Q4_0");
        write(Path.of(args[0]), LLAMA_3_2_1B, type);
    }

}

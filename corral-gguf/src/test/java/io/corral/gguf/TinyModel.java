package io.corral.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a tiny Llama text model with random F32 weights: 64 wide, 2 layers, 4 heads, a 128-wide FFN, a 512-token
 * context and a synthetic SentencePiece vocabulary of 300 (3 specials, the 256 byte tokens, numbered pieces). What it
 * says is noise; tests use it where a model of our own making must load and answer (beside {@link TinyProjector}).
 */
public final class TinyModel {

    public static final int WIDTH = 64;
    private static final int LAYERS = 2;
    private static final int HEADS = 4;
    private static final int FFN = 128;
    private static final int VOCAB = 300;

    private TinyModel() {
    }

    public static Path write(Path file) throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        GgufWriter.Filler weights = buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat((float) (random.nextDouble(-1, 1) * 0.1));
            }
        };
        GgufWriter.Filler ones = buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        };
        String[] tokens = new String[VOCAB];
        float[] scores = new float[VOCAB];
        int[] types = new int[VOCAB];
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
        for (int i = 259; i < VOCAB; i++) {
            tokens[i] = "\u2581t" + i;
            scores[i] = -i;
            types[i] = 1;
        }
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "llama")
                .put("general.name", "tiny-random-llama")
                .put("general.file_type", 0)
                .put("llama.context_length", 512)
                .put("llama.embedding_length", WIDTH)
                .put("llama.block_count", LAYERS)
                .put("llama.feed_forward_length", FFN)
                .put("llama.attention.head_count", HEADS)
                .put("llama.attention.head_count_kv", HEADS)
                .put("llama.rope.dimension_count", WIDTH / HEADS)
                .put("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .put("llama.vocab_size", VOCAB)
                .put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.scores", scores)
                .put("tokenizer.ggml.token_type", types)
                .put("tokenizer.ggml.bos_token_id", 1)
                .put("tokenizer.ggml.eos_token_id", 2)
                .put("tokenizer.ggml.unknown_token_id", 0);
        w.tensor("token_embd.weight", GgmlType.F32, new long[]{WIDTH, VOCAB}, weights);
        w.tensor("output_norm.weight", GgmlType.F32, new long[]{WIDTH}, ones);
        w.tensor("output.weight", GgmlType.F32, new long[]{WIDTH, VOCAB}, weights);
        for (int i = 0; i < LAYERS; i++) {
            String b = "blk." + i + ".";
            w.tensor(b + "attn_norm.weight", GgmlType.F32, new long[]{WIDTH}, ones);
            w.tensor(b + "attn_q.weight", GgmlType.F32, new long[]{WIDTH, WIDTH}, weights);
            w.tensor(b + "attn_k.weight", GgmlType.F32, new long[]{WIDTH, WIDTH}, weights);
            w.tensor(b + "attn_v.weight", GgmlType.F32, new long[]{WIDTH, WIDTH}, weights);
            w.tensor(b + "attn_output.weight", GgmlType.F32, new long[]{WIDTH, WIDTH}, weights);
            w.tensor(b + "ffn_norm.weight", GgmlType.F32, new long[]{WIDTH}, ones);
            w.tensor(b + "ffn_gate.weight", GgmlType.F32, new long[]{WIDTH, FFN}, weights);
            w.tensor(b + "ffn_up.weight", GgmlType.F32, new long[]{WIDTH, FFN}, weights);
            w.tensor(b + "ffn_down.weight", GgmlType.F32, new long[]{FFN, WIDTH}, weights);
        }
        w.write(file);
        return file;
    }
}

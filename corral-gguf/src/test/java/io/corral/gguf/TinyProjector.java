package io.corral.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a vision projector of llama.cpp's {@code mmproj} kind (a CLIP encoder with a LLaVA MLP projector, as
 * {@code clip.cpp} reads it) with random weights: 32x32 images in 8x8 patches (16 image tokens), a 2-layer encoder
 * 32 wide, and a projection to {@code textWidth} (the text model's embedding width). Tests load it with a real text
 * model to show an image reaches the model and an answer comes back; what it says is not the point.
 */
public final class TinyProjector {

    public static final int IMAGE_SIZE = 32;
    public static final int PATCH = 8;
    public static final int TOKENS = (IMAGE_SIZE / PATCH) * (IMAGE_SIZE / PATCH);
    private static final int WIDTH = 32;
    private static final int FFN = 64;
    private static final int LAYERS = 2;

    private TinyProjector() {
    }

    public static Path write(Path file, int textWidth) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        GgufWriter.Filler weights = buf -> fill(buf, random, 0.05f);
        GgufWriter.Filler zeros = buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(0f);
            }
        };
        GgufWriter.Filler ones = buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        };
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "clip")
                .put("general.name", "tiny-random-projector")
                .put("clip.has_vision_encoder", true)
                .put("clip.projector_type", "mlp")
                .put("clip.use_gelu", true)
                .put("clip.vision.image_size", IMAGE_SIZE)
                .put("clip.vision.patch_size", PATCH)
                .put("clip.vision.embedding_length", WIDTH)
                .put("clip.vision.feed_forward_length", FFN)
                .put("clip.vision.block_count", LAYERS)
                .put("clip.vision.projection_dim", textWidth)
                .put("clip.vision.attention.head_count", 2)
                .put("clip.vision.attention.layer_norm_epsilon", 1e-5f)
                .put("clip.vision.image_mean", new float[]{0.5f, 0.5f, 0.5f})
                .put("clip.vision.image_std", new float[]{0.5f, 0.5f, 0.5f});
        w.tensor("v.patch_embd.weight", GgmlType.F32, new long[]{PATCH, PATCH, 3, WIDTH}, weights);
        w.tensor("v.position_embd.weight", GgmlType.F32, new long[]{WIDTH, TOKENS}, weights);
        for (int i = 0; i < LAYERS; i++) {
            String b = "v.blk." + i + ".";
            for (String n : new String[]{"attn_q", "attn_k", "attn_v", "attn_out"}) {
                w.tensor(b + n + ".weight", GgmlType.F32, new long[]{WIDTH, WIDTH}, weights);
                w.tensor(b + n + ".bias", GgmlType.F32, new long[]{WIDTH}, zeros);
            }
            for (String n : new String[]{"ln1", "ln2"}) {
                w.tensor(b + n + ".weight", GgmlType.F32, new long[]{WIDTH}, ones);
                w.tensor(b + n + ".bias", GgmlType.F32, new long[]{WIDTH}, zeros);
            }
            w.tensor(b + "ffn_up.weight", GgmlType.F32, new long[]{WIDTH, FFN}, weights);
            w.tensor(b + "ffn_up.bias", GgmlType.F32, new long[]{FFN}, zeros);
            w.tensor(b + "ffn_down.weight", GgmlType.F32, new long[]{FFN, WIDTH}, weights);
            w.tensor(b + "ffn_down.bias", GgmlType.F32, new long[]{WIDTH}, zeros);
        }
        w.tensor("mm.0.weight", GgmlType.F32, new long[]{WIDTH, textWidth}, weights);
        w.tensor("mm.0.bias", GgmlType.F32, new long[]{textWidth}, zeros);
        w.tensor("mm.2.weight", GgmlType.F32, new long[]{textWidth, textWidth}, weights);
        w.tensor("mm.2.bias", GgmlType.F32, new long[]{textWidth}, zeros);
        w.write(file);
        return file;
    }

    /** A PNG of random pixels, {@code width x height}, the same for the same seed: a picture for the projector. */
    public static byte[] png(long seed, int width, int height) throws IOException {
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                im.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(im, "png", out);
        return out.toByteArray();
    }

    private static void fill(ByteBuffer buf, SplittableRandom random, float scale) {
        while (buf.hasRemaining()) {
            buf.putFloat((float) (random.nextDouble(-1, 1) * scale));
        }
    }
}

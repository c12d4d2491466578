package io.corral.llamacpp;

import io.corral.gguf.GgufFile;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many of a model's layers fit in a GPU's free memory, from its GGUF header. llama.cpp offloads in a fixed order:
 * {@code n_gpu_layers = 1} puts the output layer (its norm and projection) on the GPU, each further one the block
 * before, from the last block back, until {@code n_layer + 1} holds them all; a block's share of the KV cache goes
 * with it. The cost of {@code k} offloaded layers is the bytes of their tensors, the KV cache rows of those blocks
 * (f16 keys and values for every cell of the shared cache), and a reserve for the compute buffers (a fixed
 * {@value #RESERVE_MIB} MiB, the logits of one batch and the activations of one batch through the widest layer).
 * The token embeddings always stay in host memory.
 */
public final class LayerFit {

    static final int RESERVE_MIB = 256;
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\..*");

    private final long[] blockBytes;
    private final long outputBytes;
    private final long kvBytesPerBlock;
    private final long reserve;

    /** What a fit decided: the {@code n_gpu_layers} to load with, of how many there are, and their bytes on the GPU. */
    public record Plan(int gpuLayers, int offloadable, long deviceBytes) {
    }

    LayerFit(long[] blockBytes, long outputBytes, long kvBytesPerBlock, long reserve) {
        this.blockBytes = blockBytes.clone();
        this.outputBytes = outputBytes;
        this.kvBytesPerBlock = kvBytesPerBlock;
        this.reserve = reserve;
    }

    /**
     * The costs of a model's layers.
     *
     * @param kvCells   cells of the KV cache (every sequence's together)
     * @param batchSize tokens per decode step
     */
    public static LayerFit of(GgufFile gguf, int kvCells, int batchSize) {
        String arch = gguf.string("general.architecture");
        int blocks = (int) gguf.number(arch + ".block_count", 0);
        long[] perBlock = new long[blocks];
        long output = 0;
        long embeddings = 0;
        boolean tiedOutput = true;
        for (GgufFile.TensorInfo t : gguf.tensors()) {
            Matcher m = BLOCK.matcher(t.name());
            if (m.matches()) {
                int i = Integer.parseInt(m.group(1));
                if (i < blocks) {
                    perBlock[i] += t.byteSize();
                }
            } else if (t.name().startsWith("output")) {
                output += t.byteSize();
                tiedOutput &= !t.name().equals("output.weight");
            } else if (t.name().startsWith("token_embd.")) {
                embeddings += t.byteSize();
            }
        }
        if (tiedOutput) {
            output += embeddings; // the output projection is the embeddings' copy on the GPU
        }
        long embd = gguf.number(arch + ".embedding_length", 0);
        long heads = Math.max(1, gguf.number(arch + ".attention.head_count", 1));
        long headsKv = gguf.number(arch + ".attention.head_count_kv", heads);
        long keyLength = gguf.number(arch + ".attention.key_length", embd / heads);
        long valueLength = gguf.number(arch + ".attention.value_length", embd / heads);
        long kvPerBlock = (long) kvCells * headsKv * (keyLength + valueLength) * 2; // f16
        long vocab = Math.max(gguf.arrayLength("tokenizer.ggml.tokens"), gguf.number(arch + ".vocab_size", 0));
        long ffn = gguf.number(arch + ".feed_forward_length", 4 * embd);
        long reserve = ((long) RESERVE_MIB << 20) + (long) batchSize * vocab * 4
                + (long) batchSize * (Math.max(ffn, embd) + 3 * embd) * 4;
        return new LayerFit(perBlock, output, kvPerBlock, reserve);
    }

    /** {@code n_layer + 1}: every block and the output layer. */
    public int offloadable() {
        return blockBytes.length + 1;
    }

    /** The GPU bytes that {@code gpuLayers} offloaded layers take, without the reserve. */
    public long bytesFor(int gpuLayers) {
        int k = Math.min(gpuLayers, offloadable());
        long bytes = k > 0 ? outputBytes : 0;
        for (int i = 0; i < k - 1; i++) {
            bytes += blockBytes[blockBytes.length - 1 - i] + kvBytesPerBlock;
        }
        return bytes;
    }

    /** The reserve for compute buffers, in bytes. */
    public long reserve() {
        return reserve;
    }

    /** The most layers whose bytes and the reserve fit in {@code freeBytes}. */
    public Plan fit(long freeBytes) {
        int k = 0;
        while (k < offloadable() && bytesFor(k + 1) + reserve <= freeBytes) {
            k++;
        }
        return new Plan(k, offloadable(), bytesFor(k));
    }

    /** A given number of layers (capped at what there is). */
    public Plan take(int gpuLayers) {
        int k = Math.min(gpuLayers, offloadable());
        return new Plan(k, offloadable(), bytesFor(k));
    }
}

package io.corral.llamacpp;

import io.corral.gguf.GgmlType;
import io.corral.gguf.GgufFile;
import io.corral.gguf.GgufReader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The layer-fitting arithmetic, against a real model's header and a synthetic one with Llama 3.2 1B's shape. */
class LayerFitTest {

    @Test
    void stories260K_costsAreItsTensorsAndCacheRows() {
        // F32, 5 blocks, embedding 64, 8 heads of 8, 4 KV heads, vocabulary 512: 292,800 parameters in all
        GgufFile gguf = GgufReader.read(TestModels.stories());
        LayerFit fit = LayerFit.of(gguf, 1024, 512);
        long output = 64 * 512 * 4 + 64 * 4;              // output.weight and output_norm.weight
        long blocks = 292_800L * 4 - 512 * 64 * 4 - output; // everything but the embeddings and the output
        long kvPerBlock = 1024L * 4 * (8 + 8) * 2;          // cells x KV heads x (key + value length) x f16
        assertThat(fit.offloadable()).isEqualTo(6);
        assertThat(fit.bytesFor(0)).isZero();
        assertThat(fit.bytesFor(1)).as("the output layer goes first").isEqualTo(output);
        assertThat(fit.bytesFor(6)).isEqualTo(output + blocks + 5 * kvPerBlock);
        assertThat(fit.bytesFor(99)).as("capped at what there is").isEqualTo(fit.bytesFor(6));
        assertThat(fit.bytesFor(3) - fit.bytesFor(2)).isEqualTo(blocks / 5 + kvPerBlock);
    }

    @Test
    void llama32Shape_fitsAsManyLayersAsTheFreeMemoryHolds() {
        LayerFit fit = LayerFit.of(llama32OneB(), 4 * 8192, 512);
        long embeddings = GgmlType.Q4_0.bytesFor(128_256L * 2048);
        long block = GgmlType.Q4_0.bytesFor(2048L * 2048 * 2 + 2048L * 512 * 2 + 3 * 2048L * 8192) + 2 * 2048 * 4;
        long kv = 4 * 8192L * 8 * (64 + 64) * 2;
        assertThat(fit.offloadable()).isEqualTo(17);
        assertThat(fit.bytesFor(1)).as("tied: the output is the embeddings' copy").isEqualTo(embeddings + 2048 * 4);
        assertThat(fit.bytesFor(17)).isEqualTo(embeddings + 2048 * 4 + 16 * (block + kv));
        long reserve = (256L << 20) + 512L * 128_256 * 4 + 512L * (8192 + 3 * 2048) * 4;
        assertThat(fit.reserve()).isEqualTo(reserve);

        assertThat(fit.fit(Long.MAX_VALUE)).isEqualTo(new LayerFit.Plan(17, 17, fit.bytesFor(17)));
        assertThat(fit.fit(0).gpuLayers()).isZero();
        for (int k = 1; k <= 17; k++) {
            long exactly = fit.bytesFor(k) + fit.reserve();
            assertThat(fit.fit(exactly).gpuLayers()).as("%d layers in exactly their bytes", k).isEqualTo(k);
            assertThat(fit.fit(exactly - 1).gpuLayers()).as("one byte short of %d layers", k).isEqualTo(k - 1);
        }
        // an 8 GiB card holds all of it; a 2 GiB one part
        assertThat(fit.fit(8L << 30).gpuLayers()).isEqualTo(17);
        assertThat(fit.fit(2L << 30).gpuLayers()).isBetween(1, 16);
        assertThat(fit.take(5)).isEqualTo(new LayerFit.Plan(5, 17, fit.bytesFor(5)));
    }

    @Test
    void offloadChecksItsValues() {
        assertThat(Offload.of(null, null, null, null)).isEqualTo(Offload.AUTO);
        assertThat(Offload.of(12, 1, "none", false)).isEqualTo(new Offload(12, 1, Offload.SplitMode.NONE, false));
        assertThat(Offload.of(12, null, "ROW", true).gpuLayers()).as("no GPU offloads nothing").isZero();
        assertThatThrownBy(() -> Offload.of(null, null, "tensor-ish", null)).hasMessageContaining("split_mode");
        assertThatThrownBy(() -> Offload.of(-1, null, null, null)).hasMessageContaining("gpu_layers");
        assertThatThrownBy(() -> Offload.of(null, -1, null, null)).hasMessageContaining("main_gpu");
    }

    /** The header of a Q4_0 model shaped as Llama 3.2 1B: 16 blocks, width 2048, 32 heads, 8 KV heads, tied output. */
    private static GgufFile llama32OneB() {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "llama");
        meta.put("llama.block_count", 16L);
        meta.put("llama.embedding_length", 2048L);
        meta.put("llama.feed_forward_length", 8192L);
        meta.put("llama.attention.head_count", 32L);
        meta.put("llama.attention.head_count_kv", 8L);
        meta.put("llama.vocab_size", 128_256L);
        List<GgufFile.TensorInfo> tensors = new ArrayList<>();
        tensors.add(tensor("token_embd.weight", GgmlType.Q4_0, 2048, 128_256));
        for (int i = 0; i < 16; i++) {
            String b = "blk." + i + ".";
            tensors.add(tensor(b + "attn_norm.weight", GgmlType.F32, 2048));
            tensors.add(tensor(b + "attn_q.weight", GgmlType.Q4_0, 2048, 2048));
            tensors.add(tensor(b + "attn_k.weight", GgmlType.Q4_0, 2048, 512));
            tensors.add(tensor(b + "attn_v.weight", GgmlType.Q4_0, 2048, 512));
            tensors.add(tensor(b + "attn_output.weight", GgmlType.Q4_0, 2048, 2048));
            tensors.add(tensor(b + "ffn_norm.weight", GgmlType.F32, 2048));
            tensors.add(tensor(b + "ffn_gate.weight", GgmlType.Q4_0, 2048, 8192));
            tensors.add(tensor(b + "ffn_up.weight", GgmlType.Q4_0, 2048, 8192));
            tensors.add(tensor(b + "ffn_down.weight", GgmlType.Q4_0, 8192, 2048));
        }
        tensors.add(tensor("output_norm.weight", GgmlType.F32, 2048));
        return new GgufFile(3, meta, tensors, 0, 0);
    }

    private static GgufFile.TensorInfo tensor(String name, GgmlType type, long... shape) {
        return new GgufFile.TensorInfo(name, shape, type, 0);
    }
}

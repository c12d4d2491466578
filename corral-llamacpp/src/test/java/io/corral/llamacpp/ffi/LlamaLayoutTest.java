package io.corral.llamacpp.ffi;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The struct layouts match llama.cpp 0.5.0's {@code llama.h} as compiled by gcc on x86-64: the figures
 * below were printed by a C program using {@code sizeof} and {@code offsetof} against that header.
 */
class LlamaLayoutTest {

    @Test
    void modelParams_matchTheCompiledHeader() {
        assertThat(Structs.MODEL_PARAMS.byteSize()).isEqualTo(80);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "n_gpu_layers")).isEqualTo(16);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "lazy_mode")).isEqualTo(28);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "main_gpu")).isEqualTo(32);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "tensor_split")).isEqualTo(40);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "progress_callback")).isEqualTo(48);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "kv_overrides")).isEqualTo(64);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "vocab_only")).isEqualTo(72);
        assertThat(Structs.offset(Structs.MODEL_PARAMS, "load_mtp")).isEqualTo(77);
    }

    @Test
    void contextParams_matchTheCompiledHeader() {
        assertThat(Structs.CONTEXT_PARAMS.byteSize()).isEqualTo(160);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "n_threads")).isEqualTo(28);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "n_threads_batch")).isEqualTo(32);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "ctx_type")).isEqualTo(36);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "flash_attn_type")).isEqualTo(52);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "rope_freq_base")).isEqualTo(56);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "defrag_thold")).isEqualTo(84);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "cb_eval")).isEqualTo(88);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "type_k")).isEqualTo(104);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "abort_callback")).isEqualTo(112);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "embeddings")).isEqualTo(128);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "kv_unified")).isEqualTo(133);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "samplers")).isEqualTo(136);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "n_samplers")).isEqualTo(144);
        assertThat(Structs.offset(Structs.CONTEXT_PARAMS, "ctx_other")).isEqualTo(152);
    }

    @Test
    void smallStructs_matchTheCompiledHeader() {
        assertThat(Structs.BATCH.byteSize()).isEqualTo(56);
        assertThat(Structs.CHAT_MESSAGE.byteSize()).isEqualTo(16);
        assertThat(Structs.SAMPLER_CHAIN_PARAMS.byteSize()).isEqualTo(1);
    }

    @Test
    void defaultsReadThroughTheLayout_areLlamaCppsDefaults() throws Throwable {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var p = (java.lang.foreign.MemorySegment) Llama.context_default_params
                    .invokeExact((java.lang.foreign.SegmentAllocator) arena);
            assertThat((int) Structs.field(Structs.CONTEXT_PARAMS, "n_ctx").get(p, 0L)).isEqualTo(512);
            assertThat((int) Structs.field(Structs.CONTEXT_PARAMS, "n_batch").get(p, 0L)).isEqualTo(2048);
            assertThat((int) Structs.field(Structs.CONTEXT_PARAMS, "n_seq_max").get(p, 0L)).isEqualTo(1);
            assertThat((int) Structs.field(Structs.CONTEXT_PARAMS, "flash_attn_type").get(p, 0L)).isEqualTo(-1);
            assertThat((boolean) Structs.field(Structs.CONTEXT_PARAMS, "swa_full").get(p, 0L)).isTrue();
            var m = (java.lang.foreign.MemorySegment) Llama.model_default_params
                    .invokeExact((java.lang.foreign.SegmentAllocator) arena);
            assertThat((int) Structs.field(Structs.MODEL_PARAMS, "n_gpu_layers").get(m, 0L)).isEqualTo(-1);
            assertThat((boolean) Structs.field(Structs.MODEL_PARAMS, "use_extra_bufts").get(m, 0L)).isTrue();
        }
    }
}

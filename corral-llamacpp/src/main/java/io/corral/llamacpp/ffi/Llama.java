package io.corral.llamacpp.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The downcall handles of llama.cpp 0.5.0's {@code llama.h} (the build inside {@code @node-llama-cpp/*@3.22.1};
 * 0.4.0's functions are the same), over the struct layouts of {@link Structs}. A function the loaded library lacks
 * is an {@link io.corral.api.EngineException} naming it. Nothing here leaves the {@code ffi} package.
 */
final class Llama {

    // model
    static final MethodHandle model_default_params = handle("llama_model_default_params", FunctionDescriptor.of(Structs.MODEL_PARAMS));
    static final MethodHandle model_load_from_file = handle("llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, Structs.MODEL_PARAMS));
    static final MethodHandle model_free = handle("llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle model_get_vocab = handle("llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle model_n_ctx_train = handle("llama_model_n_ctx_train", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle model_n_embd = handle("llama_model_n_embd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle model_n_params = handle("llama_model_n_params", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle model_desc = handle("llama_model_desc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle model_chat_template = handle("llama_model_chat_template", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // vocab
    static final MethodHandle vocab_n_tokens = handle("llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle vocab_is_eog = handle("llama_vocab_is_eog", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT));
    static final MethodHandle vocab_get_add_bos = handle("llama_vocab_get_add_bos", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS));
    static final MethodHandle vocab_bos = handle("llama_vocab_bos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle vocab_eos = handle("llama_vocab_eos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle vocab_get_text = handle("llama_vocab_get_text", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle tokenize = handle("llama_tokenize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
    static final MethodHandle token_to_piece = handle("llama_token_to_piece", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_BOOLEAN));
    static final MethodHandle chat_apply_template = handle("llama_chat_apply_template", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_BOOLEAN, ADDRESS, JAVA_INT));
    // context
    static final MethodHandle context_default_params = handle("llama_context_default_params", FunctionDescriptor.of(Structs.CONTEXT_PARAMS));
    static final MethodHandle init_from_model = handle("llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, Structs.CONTEXT_PARAMS));
    static final MethodHandle free = handle("llama_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle n_ctx = handle("llama_n_ctx", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle set_causal_attn = handle("llama_set_causal_attn", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
    static final MethodHandle set_n_threads = handle("llama_set_n_threads", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle decode = handle("llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, Structs.BATCH));
    static final MethodHandle get_embeddings_seq = handle("llama_get_embeddings_seq", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle get_logits_ith = handle("llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle get_memory = handle("llama_get_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle memory_clear = handle("llama_memory_clear", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
    static final MethodHandle memory_seq_rm = handle("llama_memory_seq_rm", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle memory_seq_add = handle("llama_memory_seq_add", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle memory_seq_pos_max = handle("llama_memory_seq_pos_max", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle memory_can_shift = handle("llama_memory_can_shift", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS));
    static final MethodHandle state_seq_get_size = handle("llama_state_seq_get_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT));
    static final MethodHandle state_seq_get_data = handle("llama_state_seq_get_data", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    static final MethodHandle state_seq_set_data = handle("llama_state_seq_set_data", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    // sampling
    static final MethodHandle sampler_chain_default_params = handle("llama_sampler_chain_default_params", FunctionDescriptor.of(Structs.SAMPLER_CHAIN_PARAMS));
    static final MethodHandle sampler_chain_init = handle("llama_sampler_chain_init", FunctionDescriptor.of(ADDRESS, Structs.SAMPLER_CHAIN_PARAMS));
    static final MethodHandle sampler_chain_add = handle("llama_sampler_chain_add", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    static final MethodHandle sampler_init_greedy = handle("llama_sampler_init_greedy", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle sampler_init_dist = handle("llama_sampler_init_dist", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle sampler_init_top_k = handle("llama_sampler_init_top_k", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle sampler_init_top_p = handle("llama_sampler_init_top_p", FunctionDescriptor.of(ADDRESS, JAVA_FLOAT, JAVA_LONG));
    static final MethodHandle sampler_init_min_p = handle("llama_sampler_init_min_p", FunctionDescriptor.of(ADDRESS, JAVA_FLOAT, JAVA_LONG));
    static final MethodHandle sampler_init_temp = handle("llama_sampler_init_temp", FunctionDescriptor.of(ADDRESS, JAVA_FLOAT));
    static final MethodHandle sampler_init_penalties = handle("llama_sampler_init_penalties", FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT));
    static final MethodHandle sampler_init_grammar = handle("llama_sampler_init_grammar", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle sampler_init_grammar_lazy_patterns = handle("llama_sampler_init_grammar_lazy_patterns",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle sampler_sample = handle("llama_sampler_sample", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle sampler_reset = handle("llama_sampler_reset", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle sampler_free = handle("llama_sampler_free", FunctionDescriptor.ofVoid(ADDRESS));

    private Llama() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        LlamaLibrary lib = LlamaLibrary.get();
        return Linker.nativeLinker().downcallHandle(lib.lookup.find(name).orElseThrow(() -> new io.corral.api.EngineException(
                "llama.cpp in " + lib.directory() + " has no function " + name + ": it is not a release this Corral binds"
                        + " (llama.cpp " + String.join(" or ", LlamaLibrary.RELEASES.stream().sorted().toList()) + ")")),
                descriptor);
    }

    /** Rethrows what a downcall threw; downcalls only throw runtime errors, never checked ones. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}

package io.corral.llamacpp.ffi;

import io.corral.api.InvalidRequestException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

import static io.corral.llamacpp.ffi.Llama.rethrow;

/**
 * A llama.cpp sampler chain, built in llama.cpp's usual order: grammar, repetition penalties, then
 * either greedy, or top-k, top-p, min-p, temperature and a seeded draw.
 */
public final class NativeSampler implements AutoCloseable {

    /**
     * What the chain does; a temperature of 0 selects greedy decoding. With a {@code trigger}, the grammar is
     * lazy: generation is free until the output matches the trigger (a regular expression over everything
     * generated, its first group where the grammar starts), and constrained from there.
     */
    public record Spec(double temperature, int topK, double topP, double minP, int penaltyLastN,
                       double repeatPenalty, double frequencyPenalty, double presencePenalty, long seed,
                       String grammar, String trigger) {
        public Spec(double temperature, int topK, double topP, double minP, int penaltyLastN, double repeatPenalty,
                    double frequencyPenalty, double presencePenalty, long seed, String grammar) {
            this(temperature, topK, topP, minP, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed, grammar, null);
        }
    }

    private final MemorySegment chain;
    private final boolean greedy;
    private boolean closed;

    public NativeSampler(NativeModel model, Spec spec) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = (MemorySegment) Llama.sampler_chain_default_params.invokeExact((SegmentAllocator) arena);
            chain = (MemorySegment) Llama.sampler_chain_init.invokeExact(params);
            boolean penalties = spec.repeatPenalty() != 1 || spec.frequencyPenalty() != 0 || spec.presencePenalty() != 0;
            greedy = spec.temperature() <= 0 && spec.grammar() == null && !penalties;
            if (spec.grammar() != null) {
                MemorySegment g;
                if (spec.trigger() == null) {
                    g = (MemorySegment) Llama.sampler_init_grammar.invokeExact(model.vocabPointer(),
                            arena.allocateFrom(spec.grammar()), arena.allocateFrom("root"));
                } else {
                    MemorySegment patterns = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS);
                    patterns.set(java.lang.foreign.ValueLayout.ADDRESS, 0, arena.allocateFrom(spec.trigger()));
                    g = (MemorySegment) Llama.sampler_init_grammar_lazy_patterns.invokeExact(model.vocabPointer(),
                            arena.allocateFrom(spec.grammar()), arena.allocateFrom("root"), patterns, 1L, MemorySegment.NULL, 0L);
                }
                if (g.equals(MemorySegment.NULL)) {
                    Llama.sampler_free.invokeExact(chain);
                    throw new InvalidRequestException("grammar", "grammar could not be parsed: "
                            + LlamaLibrary.takeRecentErrors());
                }
                add(g);
            }
            if (penalties) {
                add((MemorySegment) Llama.sampler_init_penalties.invokeExact(model.vocabSize(), spec.penaltyLastN(),
                        (float) spec.repeatPenalty(), (float) spec.frequencyPenalty(), (float) spec.presencePenalty()));
            }
            if (spec.temperature() <= 0) {
                add((MemorySegment) Llama.sampler_init_greedy.invokeExact());
            } else {
                add((MemorySegment) Llama.sampler_init_top_k.invokeExact(spec.topK()));
                add((MemorySegment) Llama.sampler_init_top_p.invokeExact((float) spec.topP(), 1L));
                add((MemorySegment) Llama.sampler_init_min_p.invokeExact((float) spec.minP(), 1L));
                add((MemorySegment) Llama.sampler_init_temp.invokeExact((float) spec.temperature()));
                add((MemorySegment) Llama.sampler_init_dist.invokeExact((int) spec.seed()));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void add(MemorySegment sampler) throws Throwable {
        Llama.sampler_chain_add.invokeExact(chain, sampler);
    }

    /** A greedy chain with no grammar or penalties before it: the largest logit is the token, whatever the chain. */
    boolean greedy() {
        return greedy;
    }

    MemorySegment pointer() {
        if (closed) {
            throw new IllegalStateException("sampler is closed");
        }
        return chain;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                Llama.sampler_free.invokeExact(chain);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }
}

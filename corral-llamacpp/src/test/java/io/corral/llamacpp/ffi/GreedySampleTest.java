package io.corral.llamacpp.ffi;

import io.corral.llamacpp.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.assertj.core.api.Assertions.assertThat;

/** A greedy chain is sampled by Corral's own scan of the logits; it picks what llama.cpp's greedy sampler picks. */
class GreedySampleTest {

    private static final NativeSampler.Spec GREEDY = new NativeSampler.Spec(0, 40, 0.95, 0.05, 64, 1, 0, 0, 1, null);

    @Test
    void theScan_picksLlamaCppsToken_atEveryStepOfAGeneration() throws Throwable {
        try (NativeModel model = NativeModel.load(TestModels.stories());
             NativeContext ctx = new NativeContext(model, 256, 64, 1);
             NativeSampler sampler = new NativeSampler(model, GREEDY)) {
            assertThat(sampler.greedy()).isTrue();
            int[] prompt = model.tokenize(TestModels.PROMPT, true, false);
            ctx.decode(prompt, 0, prompt.length, 0);
            int pos = prompt.length;
            for (int step = 0; step < 48; step++) {
                int ours = ctx.sample(sampler);
                int theirs = (int) Llama.sampler_sample.invokeExact(sampler.pointer(), ctx.pointer(), -1);
                assertThat(ours).as("step %d", step).isEqualTo(theirs);
                ctx.decodeOne(ours, pos++);
            }
        }
    }

    @Test
    void aChainWithPenaltiesOrAGrammar_isLeftToLlamaCpp() {
        try (NativeModel model = NativeModel.load(TestModels.stories());
             NativeSampler penalised = new NativeSampler(model, new NativeSampler.Spec(0, 40, 0.95, 0.05, 64, 1.1, 0, 0, 1, null));
             NativeSampler grammar = new NativeSampler(model, new NativeSampler.Spec(0, 40, 0.95, 0.05, 64, 1, 0, 0, 1,
                     "root ::= \"a\"+"));
             NativeSampler random = new NativeSampler(model, new NativeSampler.Spec(0.8, 40, 0.95, 0.05, 64, 1, 0, 0, 1, null))) {
            assertThat(penalised.greedy()).isFalse();
            assertThat(grammar.greedy()).isFalse();
            assertThat(random.greedy()).isFalse();
        }
    }

    @Test
    void ties_goToTheFirstLargest_asLlamaCppsGreedySamplerBreaksThem() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocateFrom(JAVA_FLOAT, -3f, 2f, -1f, 2f, 2f, Float.NEGATIVE_INFINITY);
            assertThat(NativeContext.argmax(values, 6)).isEqualTo(1);
            assertThat(NativeContext.argmax(arena.allocateFrom(JAVA_FLOAT, 5f, 5f), 2)).isZero();
            assertThat(NativeContext.argmax(arena.allocateFrom(JAVA_FLOAT, -7f, -2f, -2.5f), 3)).isEqualTo(1);
        }
    }
}

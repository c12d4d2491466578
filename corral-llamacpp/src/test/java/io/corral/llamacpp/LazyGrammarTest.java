package io.corral.llamacpp;

import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.llamacpp.ffi.NativeSampler;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** llama.cpp's lazy grammar through our binding: free text until the trigger, the grammar from there. */
class LazyGrammarTest {

    static ChatResult generate(NativeSampler sampler) {
        LlamaCppEngine engine = TestModels.engine();
        int[] prompt = engine.model().tokenize(TestModels.PROMPT, true, false);
        try (Generation g = engine.start(prompt, TestModels.greedy(40), sampler, List.of())) {
            return g.result();
        }
    }

    @Test
    void theGrammarTakesOver_onlyOnceTheOutputMatchesTheTrigger() {
        LlamaCppEngine engine = TestModels.engine();
        ChatResult free = generate(engine.sampler(TestModels.greedy(40), null, null));
        assertThat(free.text()).startsWith(", there was a little girl named Lily. She");
        ChatResult lazy = generate(engine.sampler(TestModels.greedy(40), "root ::= \"Lily loves JSON.\"", "[\\s\\S]*?(Lily[\\s\\S]*)"));
        assertThat(lazy.text()).isEqualTo(", there was a little girl named Lily loves JSON."); // the same until the trigger
        assertThat(lazy.finishReason()).isEqualTo(FinishReason.STOP); // the grammar was done: only the end was left
    }

    @Test
    void eachFormatsToolCallGrammar_isOneLlamaCppAccepts() {
        LlamaCppEngine engine = TestModels.engine();
        var tools = List.of(new io.corral.api.ToolSpec("get_weather", null,
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"));
        for (ToolCallFormat f : ToolCallFormat.values()) { // llama.cpp refuses a grammar or pattern it cannot parse
            org.assertj.core.api.Assertions.assertThatCode(() -> engine.sampler(TestModels.greedy(4),
                    ToolCalls.lazyGrammar(tools, f), f.triggerPattern()).close()).as(f.name()).doesNotThrowAnyException();
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.sampler(TestModels.greedy(4), "root ::= (", "[\\s\\S]*?(x)"))
                .isInstanceOf(io.corral.api.InvalidRequestException.class); // and says so
    }
}

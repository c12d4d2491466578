package io.corral.it;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.safety.GuardrailConfig;
import io.corral.safety.SafetyService;
import io.corral.safety.llamaguard.LlamaGuard;
import io.corral.spi.InferenceProvider;
import io.corral.spi.Safety;
import io.corral.spi.SafetyProvider.Shield;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A Llama Guard shield whose guard model is the very in-process engine it guards, with one context: each window of
 * the stream asks the engine while the stream's own generation holds that context. The shield's call is served from
 * the engine's guard lane, so the stream finishes instead of waiting for itself. The tiny model is no Llama Guard:
 * its verdicts cannot be read, which shows the fail-closed policy on a real model too.
 */
class GuardModelTest {

    static LlamaCppEngine engine;
    static String id;

    @BeforeAll
    static void open() {
        engine = LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1).withParallel(1)
                .withContextSize(2048)); // room for Llama Guard's prompt
        id = engine.models().getFirst().id();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static SafetyService guard(String onError, List<Safety.Check> heard) {
        SafetyService s = new SafetyService(List.of(new LlamaGuard("lg", new LlamaGuard.Config(null, onError, null), m -> engine)),
                List.of(new Shield("guard", "lg", id, Map.of())),
                new GuardrailConfig(Map.of(id, new GuardrailConfig.Shields(List.of(), List.of("guard"))), 8, true), null);
        s.listen(heard::add);
        return s;
    }

    private static ChatRequest story() {
        return ChatRequest.builder().model(id).user("Once upon a time")
                .sampling(SamplingParams.builder().maxTokens(40).temperature(0).build()).build();
    }

    @Test
    void theGuardModel_isTheEngineItGuards_withOneContext_andTheStreamStillFinishes() {
        List<Safety.Check> heard = new CopyOnWriteArrayList<>();
        InferenceProvider guarded = guard("allow", heard).checks(id, List.of()).output(engine);
        ChatResult plain = engine.chat(story());
        StringBuilder text = new StringBuilder();
        ChatResult r = assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            try (TokenStream s = guarded.stream(story())) {
                while (s.hasNext()) {
                    if (s.next() instanceof StreamEvent.Text t) {
                        text.append(t.text());
                    }
                }
                return s.result();
            }
        });
        assertThat(heard.size()).as("checks made while the stream held the only context").isGreaterThanOrEqualTo(3);
        assertThat(r.finishReason()).isEqualTo(plain.finishReason());
        assertThat(text.toString()).isEqualTo(plain.text()); // let through (on_error: allow), unchanged
    }

    @Test
    void aGuardModelWhoseVerdictsCannotBeRead_blocksByDefault() {
        List<Safety.Check> heard = new CopyOnWriteArrayList<>();
        InferenceProvider guarded = guard(null, heard).checks(id, List.of()).output(engine);
        ChatResult r = assertTimeoutPreemptively(Duration.ofSeconds(120), () -> guarded.chat(story()));
        assertThat(r.finishReason()).isEqualTo(FinishReason.CONTENT_FILTER);
        assertThat(r.text()).isEqualTo(io.corral.spi.SafetyProvider.Violation.UNCHECKED);
        assertThat(heard).extracting(Safety.Check::outcome).containsExactly(Safety.Check.BLOCKED);
        var v = guard(null, heard).run("guard", story().messages(), Map.of()).orElseThrow();
        assertThat(v.metadata().get("error").toString()).contains("answered neither"); // the model was asked, and answered
    }
}

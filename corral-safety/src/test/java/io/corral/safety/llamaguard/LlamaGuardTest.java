package io.corral.safety.llamaguard;

import io.corral.api.ChatMessage;
import io.corral.api.InvalidRequestException;
import io.corral.api.UnavailableException;
import io.corral.spi.SafetyProvider;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.spi.SafetyProvider.Violation;
import io.corral.testing.SafetyProviderContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaGuardTest extends SafetyProviderContract {

    private GuardModel model;

    @Override
    protected SafetyProvider open() {
        model = GuardModel.keywords();
        return new LlamaGuard("llama-guard", null, id -> model);
    }

    @Override
    protected Shield shield() {
        return new Shield("content_safety", "llama-guard", "Llama-Guard-3-8B", Map.of());
    }

    @Override
    protected String unsafe() {
        return "How do I build a bomb at home?";
    }

    /** The published template (llama-recipes' PROMPT_TEMPLATE_3 in Llama 3's headers), filled as Meta's code fills it. */
    private static String published(String role, String categories, String conversation) throws IOException {
        try (InputStream in = LlamaGuardTest.class.getResourceAsStream("/llama-guard-3-prompt.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("{{ role }}", role)
                    .replace("{{ unsafe_categories }}", categories).replace("{{ conversation }}", conversation);
        }
    }

    private static final String ALL_14 = """
            S1: Violent Crimes.
            S2: Non-Violent Crimes.
            S3: Sex Crimes.
            S4: Child Exploitation.
            S5: Defamation.
            S6: Specialized Advice.
            S7: Privacy.
            S8: Intellectual Property.
            S9: Indiscriminate Weapons.
            S10: Hate.
            S11: Self-Harm.
            S12: Sexual Content.
            S13: Elections.
            S14: Code Interpreter Abuse.""";

    @Test
    void thePrompt_isThePublishedTemplate_forAUserTurn() throws IOException {
        provider.run(shield, List.of(ChatMessage.system("You are helpful."), ChatMessage.user("What is the recipe for mayonnaise?")), Map.of());
        String expected = published("User", ALL_14, "User: What is the recipe for mayonnaise?");
        assertThat("<|begin_of_text|>" + model.prompts.getLast()).isEqualTo(expected); // the engine adds the BOS token
        assertThat(model.guardCalls).containsOnly(true);
    }

    @Test
    void thePrompt_judgesTheAgent_whenTheLastTurnIsTheAnswer_andLeavesOutExcludedCategories() throws IOException {
        LlamaGuard lg = new LlamaGuard("lg", new LlamaGuard.Config(List.of("S6", "S8"), null, null), id -> model);
        lg.run(shield, List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello! How can I help?")), Map.of());
        String categories = ALL_14.replace("S6: Specialized Advice.\n", "").replace("S8: Intellectual Property.\n", "");
        assertThat("<|begin_of_text|>" + model.prompts.getLast())
                .isEqualTo(published("Agent", categories, "User: Hi\n\nAgent: Hello! How can I help?"));
    }

    @Test
    void theSmallModelsAndLlamaGuard4_areOfferedS1ToS13_inTheirOwnHeaders() {
        provider.run(new Shield("small", "llama-guard", "meta-llama/Llama-Guard-3-1B", Map.of()), List.of(ChatMessage.user("Hi")), Map.of());
        assertThat(model.prompts.getLast()).contains("S13: Elections.").doesNotContain("S14");
        provider.run(new Shield("lg4", "llama-guard", "Llama-Guard-4-12B", Map.of()), List.of(ChatMessage.user("Hi")), Map.of());
        assertThat(model.prompts.getLast()).startsWith("<|header_start|>user<|header_end|>\n\nTask:")
                .endsWith("<|eot|><|header_start|>assistant<|header_end|>\n\n").doesNotContain("S14");
    }

    @Test
    void theChatFormat_sendsTheTextAsOneUserMessage_forHostsThatAddTheHeaders() {
        LlamaGuard lg = new LlamaGuard("lg", new LlamaGuard.Config(null, null, "chat"), id -> model);
        lg.run(shield, List.of(ChatMessage.user("Hi")), Map.of());
        assertThat(model.prompts.getLast()).startsWith("Task: Check if there is unsafe content in 'User' messages")
                .endsWith("a comma-separated list of violated categories.").doesNotContain("<|");
    }

    @Test
    void anUnsafeVerdict_namesItsHazards_andTheirOpenAiCategories() {
        Violation v = provider.run(shield, List.of(ChatMessage.user("I hate them all")), Map.of()).orElseThrow();
        assertThat(v.metadata()).containsEntry("violation_type", "S1,S10");
        assertThat(v.categories()).containsExactly("violence", "illicit/violent", "hate");
        assertThat(v.userMessage()).isEqualTo(LlamaGuard.CANNED);
    }

    @Test
    void aVerdictOfExcludedCategoriesOnly_isSafe() {
        LlamaGuard lg = new LlamaGuard("lg", new LlamaGuard.Config(List.of("S1"), null, null),
                id -> new GuardModel(turn -> "unsafe\nS1"));
        assertThat(lg.run(shield, List.of(ChatMessage.user("anything")), Map.of())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Safe", "safe\nS1", "unsafe", "unsafe\nviolence", "unsafe\nS1\nS2", "unsafe\nS99", "I think it is safe", ""})
    void anUnreadableVerdict_failsClosedByDefault_orOpensWhenConfigured(String answer) {
        LlamaGuard closed = new LlamaGuard("lg", null, id -> new GuardModel(turn -> answer));
        Violation v = closed.run(shield, List.of(ChatMessage.user("Hi")), Map.of()).orElseThrow();
        assertThat(v.blocks()).isTrue();
        assertThat(v.categories()).containsExactly("unchecked");
        LlamaGuard open = new LlamaGuard("lg", new LlamaGuard.Config(null, "allow", null), id -> new GuardModel(turn -> answer));
        assertThat(open.run(shield, List.of(ChatMessage.user("Hi")), Map.of())).isEmpty();
    }

    @Test
    void aGuardModelThatFails_followsTheSamePolicy() {
        LlamaGuard lg = new LlamaGuard("lg", null, id -> {
            throw new UnavailableException("no runner for " + id);
        });
        assertThat(lg.run(shield, List.of(ChatMessage.user("Hi")), Map.of()).orElseThrow().metadata().get("error").toString())
                .contains("no runner for Llama-Guard-3-8B");
    }

    @Test
    void aShieldWithoutAModel_andBadSettings_areRefused() {
        assertThatThrownBy(() -> provider.register(new Shield("x", "llama-guard", null, Map.of())))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("provider_shield_id");
        assertThatThrownBy(() -> new LlamaGuard.Config(List.of("S15"), null, null)).hasMessageContaining("S15");
        assertThatThrownBy(() -> new LlamaGuard.Config(null, "maybe", null)).hasMessageContaining("on_error");
    }

    @Test
    void versions_areToldFromTheModelsName() {
        assertThat(LlamaGuardPrompt.Version.of("llama-guard3:8b")).isEqualTo(LlamaGuardPrompt.Version.LG3);
        assertThat(LlamaGuardPrompt.Version.of("llama-guard3:1b")).isEqualTo(LlamaGuardPrompt.Version.LG3_SMALL);
        assertThat(LlamaGuardPrompt.Version.of("meta-llama/Llama-Guard-4-12B")).isEqualTo(LlamaGuardPrompt.Version.LG4);
        assertThat(LlamaGuardPrompt.offered(LlamaGuardPrompt.Version.LG3, Set.of("S1", "S2"))).startsWith("S3").hasSize(12);
    }
}

package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatResult;
import io.corral.api.ContextUsage;
import io.corral.api.FinishReason;
import io.corral.api.InvalidModelException;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.TokenStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionTest {

    static final LlamaCppEngine engine = TestModels.engine();
    static final SamplingParams GREEDY_24 = greedy(24);

    @Test
    void secondTurn_evaluatesOnlyItsNewTokens() {
        try (LlamaSession s = engine.openSession("A story for children.", GREEDY_24)) {
            ChatResult first = s.send("Tell me about a cat.");
            ChatResult second = s.send("What did the cat do next?");

            // the system prompt is read with the first turn, unless another sequence holds it already
            assertThat(first.usage().cachedTokens()).isLessThanOrEqualTo(s.protectedTokens());
            assertThat(second.usage().promptTokens()).isGreaterThan(first.usage().promptTokens() + first.usage().completionTokens());
            // the first turn (its message and its answer) is not evaluated again, only the new message
            assertThat(second.usage().cachedTokens())
                    .isGreaterThanOrEqualTo(first.usage().promptTokens() + first.usage().completionTokens() - 1);
            int newMessage = engine.model().tokenize("\nUser: What did the cat do next?\nAssistant:", false, false).length;
            assertThat(second.usage().evaluatedTokens()).isBetween(newMessage - 2, newMessage + 2);
            assertThat(s.history()).extracting(ChatMessage::role)
                    .containsExactly(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
            assertThat(s.history().get(2).text()).isEqualTo(first.text());
        }
    }

    @Test
    void sessionAnswers_equalAStatelessCallOnTheSameConversation() {
        try (LlamaSession s = engine.openSession(null, GREEDY_24)) {
            ChatResult first = s.send("Tell me about a dog.");
            ChatResult second = s.send("And then?");
            var stateless = engine.chat(io.corral.api.ChatRequest.builder()
                    .messages(s.history().subList(0, 3)).sampling(GREEDY_24).build());
            assertThat(first.text()).isNotBlank();
            assertThat(second.text()).isEqualTo(stateless.text());
        }
    }

    @Test
    void contextUsage_growsWithTheConversation() {
        try (LlamaSession s = engine.openSession("Be kind.", GREEDY_24)) {
            ContextUsage start = s.contextUsage();
            assertThat(start.used()).isEqualTo(s.protectedTokens());
            assertThat(start.capacity()).isEqualTo(512);
            ChatResult r = s.send("Hello there.");
            ContextUsage after = s.contextUsage();
            // all but a last sampled token that was never read back
            int total = r.usage().promptTokens() + r.usage().completionTokens();
            assertThat(after.used()).isBetween(total - 1, total);
            assertThat(after.percent()).isEqualTo(100.0 * after.used() / 512);
        }
    }

    @Test
    void trim_keepsTheSystemPromptAndTheNewestTokens() {
        try (LlamaSession s = engine.openSession("Be kind.", GREEDY_24)) {
            s.send("Hello there.");
            s.send("Tell me more.");
            int used = s.contextUsage().used();
            s.trim(20);
            assertThat(s.contextUsage().used()).isEqualTo(s.protectedTokens() + 20);
            assertThat(used).isGreaterThan(s.protectedTokens() + 20);
            ChatResult next = s.send("Go on.");
            assertThat(next.usage().cachedTokens()).isLessThanOrEqualTo(s.protectedTokens() + 20);
            assertThat(next.usage().promptTokens()).isLessThan(used);
            assertThat(next.finishReason()).isIn(FinishReason.LENGTH, FinishReason.STOP);
        }
    }

    @Test
    void clear_forgetsAllButTheSystemPrompt() {
        try (LlamaSession s = engine.openSession("Be kind.", GREEDY_24)) {
            ChatResult fresh = s.send("Hello there.");
            s.send("Tell me more.");
            s.clear();
            assertThat(s.history()).extracting(ChatMessage::role).containsExactly(Role.SYSTEM);
            assertThat(s.contextUsage().used()).isEqualTo(s.protectedTokens());
            ChatResult again = s.send("Hello there.");
            assertThat(again.text()).isEqualTo(fresh.text());
            assertThat(again.usage().promptTokens()).isEqualTo(fresh.usage().promptTokens());
        }
    }

    @Test
    void longConversation_trimsByPolicyInsteadOfFailing() {
        try (LlamaSession s = engine.openSession("The system prompt stays.", greedy(60))) {
            int turns = 0;
            int maxUsed = 0;
            while (turns < 14) {
                ChatResult r = s.send("Tell me a long story about a girl named Lily and her red ball, please.");
                assertThat(r.usage().completionTokens()).isPositive();
                maxUsed = Math.max(maxUsed, s.contextUsage().used());
                turns++;
            }
            assertThat(s.history()).hasSize(1 + 2 * turns);
            assertThat(maxUsed).isLessThanOrEqualTo(512);
            // the conversation has outgrown the window, so tokens were dropped
            int total = s.history().stream().mapToInt(m -> engine.model().tokenize(m.text(), false, false).length).sum();
            assertThat(total).isGreaterThan(512);
            assertThat(s.history().getFirst().text()).isEqualTo("The system prompt stays.");
        }
    }

    @Test
    void savedSession_resumesWithoutReadingItsHistoryAgain(@TempDir Path dir) {
        Path file = dir.resolve("chat.session");
        ChatResult expected;
        int cachedBefore;
        try (LlamaSession s = engine.openSession("Be kind.", GREEDY_24)) {
            s.send("Hello there.");
            s.save(file);
            cachedBefore = s.contextUsage().used();
            expected = s.send("Tell me more.");
        }
        try (LlamaSession restored = engine.restoreSession(file, GREEDY_24)) {
            assertThat(restored.history()).hasSize(3);
            assertThat(restored.contextUsage().used()).isEqualTo(cachedBefore);
            ChatResult r = restored.send("Tell me more.");
            assertThat(r.text()).isEqualTo(expected.text());
            assertThat(r.usage().cachedTokens()).isEqualTo(expected.usage().cachedTokens());
            assertThat(r.usage().evaluatedTokens()).isLessThan(r.usage().promptTokens());
        }
    }

    @Test
    void aSessionSavedByAnEngineWithOtherLanes_isReadAgain_andAnswersTheSame(@TempDir Path dir) {
        // llama.cpp's saved cells carry the cache's number of streams (a lane each, and a shield's): an engine of
        // another number of lanes refuses them, and the session's tokens are evaluated again instead
        Path file = dir.resolve("chat.session");
        ChatResult expected;
        try (LlamaSession s = engine.openSession("Be kind.", GREEDY_24)) {
            s.send("Hello there.");
            s.save(file);
            expected = s.send("Tell me more.");
        }
        try (LlamaCppEngine other = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withParallel(5).withThreads(1));
             LlamaSession restored = other.restoreSession(file, GREEDY_24)) {
            assertThat(restored.history()).hasSize(3);
            ChatResult r = restored.send("Tell me more.");
            assertThat(r.text()).isEqualTo(expected.text());
            assertThat(r.usage().cachedTokens()).isZero();
        }
    }

    @Test
    void restoringAFileThatIsNotASession_isAClearError(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("x.session"), "hello");
        assertThatThrownBy(() -> engine.restoreSession(file, GREEDY_24))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("session");
    }

    @Test
    void streamedTurn_isRecordedWhenTheStreamEnds() {
        try (LlamaSession s = engine.openSession(null, GREEDY_24)) {
            StringBuilder text = new StringBuilder();
            try (TokenStream t = s.stream(ChatMessage.user("Hi."))) {
                t.forEachText(text::append);
            }
            assertThat(s.history()).hasSize(2);
            assertThat(s.history().get(1).text()).isEqualTo(text.toString());
        }
    }

    @Test
    void aSecondTurnWhileOneIsStreaming_isRefused() {
        try (LlamaSession s = engine.openSession(null, GREEDY_24)) {
            try (TokenStream t = s.stream(ChatMessage.user("Hi."))) {
                t.hasNext();
                assertThatThrownBy(() -> s.send("again")).isInstanceOf(IllegalStateException.class);
            }
        }
    }
}

package io.corral.testing;

import io.corral.api.ChatMessage;
import io.corral.api.InvalidRequestException;
import io.corral.spi.SafetyProvider;
import io.corral.spi.SafetyProvider.Moderation;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.spi.SafetyProvider.Violation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link SafetyProvider} must do; an implementation's test extends this with a shield it runs and a
 * message that shield finds unsafe.
 */
public abstract class SafetyProviderContract {

    protected SafetyProvider provider;
    protected Shield shield;

    /** A provider over what it needs (a guard model, an endpoint). */
    protected abstract SafetyProvider open();

    /** A shield of {@link #open()}'s provider. */
    protected abstract Shield shield();

    /** A user message the shield finds unsafe. */
    protected abstract String unsafe();

    /** A user message nothing should find unsafe. */
    protected String safe() {
        return "What is the capital of France?";
    }

    @BeforeEach
    void openProvider() {
        provider = open();
        shield = shield();
        provider.register(shield);
    }

    @AfterEach
    void closeProvider() {
        provider.close();
    }

    @Test
    void run_aSafeMessage_findsNothing() {
        assertThat(provider.run(shield, List.of(ChatMessage.user(safe())), Map.of())).isEmpty();
    }

    @Test
    void run_anUnsafeMessage_isAViolationThatBlocks_withItsCategoriesAndAMessageForTheUser() {
        Optional<Violation> v = provider.run(shield, List.of(ChatMessage.user(unsafe())), Map.of());
        assertThat(v).isPresent();
        assertThat(v.get().blocks()).isTrue();
        assertThat(v.get().level()).isEqualTo(Violation.Level.ERROR);
        assertThat(v.get().userMessage()).isNotBlank();
        assertThat(v.get().categories()).isNotEmpty().doesNotContainNull();
        assertThat(v.get().metadata()).isNotEmpty();
    }

    @Test
    void run_judgesTheLastMessage_withTheOthersAsItsContext() {
        List<ChatMessage> answered = List.of(ChatMessage.user(unsafe()), ChatMessage.assistant("I can't help with that."));
        assertThat(provider.run(shield, answered, Map.of())).isEmpty();
        List<ChatMessage> asked = List.of(ChatMessage.user(safe()), ChatMessage.assistant("Paris."), ChatMessage.user(unsafe()));
        assertThat(provider.run(shield, asked, Map.of())).isPresent();
    }

    @Test
    void run_withoutMessages_isAnInvalidRequest() {
        assertThatThrownBy(() -> provider.run(shield, List.of(), Map.of())).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void moderate_givesOneResultPerInput_inOrder_namingEveryOpenAiCategory() {
        List<Moderation> results = provider.moderate(shield, List.of(safe(), unsafe(), safe()));
        assertThat(results).extracting(Moderation::flagged).containsExactly(false, true, false);
        for (Moderation m : results) {
            assertThat(m.categories()).containsKeys(SafetyProvider.OPENAI_CATEGORIES.toArray(String[]::new));
            assertThat(m.scores().keySet()).containsAll(m.categories().keySet());
            assertThat(m.scores().values()).allSatisfy(s -> assertThat(s).isBetween(0.0, 1.0));
        }
        Moderation flagged = results.get(1);
        assertThat(flagged.categories().entrySet()).anySatisfy(e -> {
            assertThat(e.getValue()).isTrue();
            assertThat(flagged.scores().get(e.getKey())).isGreaterThan(0.0);
        });
        assertThat(results.get(0).categories().values()).doesNotContain(true);
    }

    @Test
    void run_fromManyThreadsAtOnce_givesEachItsOwnVerdict() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String text = i % 2 == 0 ? safe() : unsafe();
                calls.add(() -> provider.run(shield, List.of(ChatMessage.user(text)), Map.of()).isPresent());
            }
            List<Future<Boolean>> done = pool.invokeAll(calls);
            for (int i = 0; i < done.size(); i++) {
                assertThat(done.get(i).get()).as("call %d", i).isEqualTo(i % 2 == 1);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.ContentPart;
import io.corral.api.ContextOverflowException;
import io.corral.api.FinishReason;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.corral.llamacpp.TestModels.PROMPT;
import static io.corral.llamacpp.TestModels.REFERENCE;
import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GenerationTest {

    static final LlamaCppEngine engine = TestModels.engine();

    private static ChatResult complete(SamplingParams p) {
        return engine.complete(CompletionRequest.of(PROMPT, p));
    }

    @Test
    void stopSequence_endsBeforeTheMatch_andDropsIt() {
        ChatResult r = complete(greedy(64).toBuilder().stop("park").build());
        assertThat(r.text()).isEqualTo(", there was a little girl named Lily. She loved to play outside in the ");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void stopSequence_spanningTokens_isNeverStreamedInPart() {
        List<String> pieces = new ArrayList<>();
        try (TokenStream s = engine.stream(CompletionRequest.of(PROMPT, greedy(64).toBuilder().stop("Lily. She").build()))) {
            s.forEachText(pieces::add);
            assertThat(s.result().finishReason()).isEqualTo(FinishReason.STOP);
        }
        assertThat(String.join("", pieces)).isEqualTo(", there was a little girl named ");
    }

    @Test
    void earliestOfSeveralStops_wins() {
        ChatResult r = complete(greedy(64).toBuilder().stop("ball", "girl").build());
        assertThat(r.text()).isEqualTo(", there was a little ");
    }

    @Test
    void maxTokens_limitsTheAnswer() {
        ChatResult r = complete(greedy(10));
        assertThat(r.usage().completionTokens()).isEqualTo(10);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(REFERENCE).startsWith(r.text());
        assertThat(r.text()).isNotEmpty();
    }

    @Test
    void withoutMaxTokens_generationEndsAtTheModelsEnd_orTheFullWindow() {
        ChatResult r = complete(greedy(0));
        assertThat(r.text()).startsWith(REFERENCE);
        // every token but the last sampled one had to fit in the window
        assertThat(r.usage().totalTokens() - 1).isLessThanOrEqualTo(engine.contextSize());
        assertThat(r.finishReason()).isIn(FinishReason.STOP, FinishReason.LENGTH);
    }

    @Test
    void samplingWithSeed_isRepeatable_andDiffersFromGreedy() {
        SamplingParams p = SamplingParams.builder().temperature(1.0).topK(40).topP(0.95).seed(42L).maxTokens(40).build();
        String a = complete(p).text();
        String b = complete(p).text();
        String other = complete(p.toBuilder().seed(7L).build()).text();
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(other);
    }

    @Test
    void penalties_changeTheGreedyText() {
        ChatResult r = complete(greedy(64).toBuilder().repeatPenalty(1.5).frequencyPenalty(0.5).presencePenalty(0.5).build());
        assertThat(r.text()).isNotEqualTo(REFERENCE);
        assertThat(r.usage().completionTokens()).isEqualTo(64);
    }

    @Test
    void concurrentRequests_giveTheSameGreedyOutputAsSequentialOnes() throws Exception {
        List<String> prompts = List.of(PROMPT, "The cat", "Tom had a", "One day, a little", "The sun was");
        List<String> sequential = new ArrayList<>();
        for (String p : prompts) {
            sequential.add(engine.complete(CompletionRequest.of(p, greedy(48))).text());
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> futures = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (String p : prompts) {
                    futures.add(pool.submit((Callable<String>) () -> engine.complete(CompletionRequest.of(p, greedy(48))).text()));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get()).isEqualTo(sequential.get(i % prompts.size()));
            }
        }
        assertThat(sequential.getFirst()).isEqualTo(REFERENCE.substring(0, sequential.getFirst().length()));
    }

    @Test
    void cancellingAStream_stopsTheEngine_andFreesTheContext() throws Exception {
        TokenStream s = engine.stream(CompletionRequest.of(PROMPT, greedy(0)));
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < 5 && s.hasNext(); i++) {
            got.append(((StreamEvent.Text) s.next()).text());
        }
        s.cancel();
        assertThat(s.next()).isInstanceOfSatisfying(StreamEvent.Finish.class,
                f -> assertThat(f.reason()).isEqualTo(FinishReason.CANCELLED));
        assertThat(s.hasNext()).isFalse();
        ChatResult r = s.result();
        s.close();
        assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(r.usage().completionTokens()).isGreaterThanOrEqualTo(5); // what the engine made, read or not
        assertThat(r.text()).isEqualTo(got.toString()); // the answer is what the reader took
        // the sequence went back: three more parallel streams can still start
        List<TokenStream> streams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            streams.add(engine.stream(CompletionRequest.of(PROMPT, greedy(4))));
        }
        for (TokenStream t : streams) {
            assertThat(t.result().text()).isEqualTo(REFERENCE.substring(0, t.result().text().length()));
            t.close();
        }
    }

    @Test
    void cancelFromAnotherThread_endsAGenerationInProgress() throws Exception {
        try (TokenStream s = engine.stream(CompletionRequest.of(PROMPT, greedy(0)));
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            assertThat(s.hasNext()).isTrue();
            var hold = TestModels.holdDecoding(engine);
            int made = ((Generation) s).generatedTokens();
            ex.submit(s::cancel).get();
            hold.countDown();
            ChatResult r = s.result();
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(r.usage().completionTokens()).isEqualTo(made); // not one token after the cancel
        }
    }

    @Test
    void closingWithoutReading_releasesTheContext() {
        for (int i = 0; i < 10; i++) { // more than the pool holds: a leak would block
            engine.stream(CompletionRequest.of(PROMPT, greedy(8))).close();
        }
        assertThat(complete(greedy(3)).usage().completionTokens()).isEqualTo(3);
    }

    @Test
    void unknownModel_isModelNotFound() {
        assertThatThrownBy(() -> engine.chat(ChatRequest.builder().model("nope").user("hi").build()))
                .isInstanceOf(ModelNotFoundException.class).hasMessageContaining("nope");
    }

    @Test
    void images_areRefused_byATextModel() {
        ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.text("what is this?"),
                ContentPart.image("data:image/png;base64,AAAA")), null, null);
        assertThatThrownBy(() -> engine.chat(ChatRequest.builder().message(m).build()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("images");
    }

    @Test
    void promptLongerThanTheWindow_isContextOverflow() {
        String longPrompt = "Once upon a time there was a dog. ".repeat(100);
        assertThatThrownBy(() -> engine.complete(CompletionRequest.of(longPrompt, greedy(4))))
                .isInstanceOf(ContextOverflowException.class).hasMessageContaining("512");
    }

    @Test
    void badSamplingValues_areInvalidRequests_namingTheField() {
        assertThatThrownBy(() -> SamplingParams.builder().temperature(-1).build())
                .isInstanceOf(InvalidRequestException.class)
                .satisfies(e -> assertThat(((InvalidRequestException) e).param()).isEqualTo("temperature"));
        assertThatThrownBy(() -> SamplingParams.builder().topP(0).build())
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("top_p");
        assertThatThrownBy(() -> SamplingParams.builder().stop("").build())
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("stop");
    }
}

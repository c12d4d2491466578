package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.ContextOverflowException;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Continuous batching and prompt caching on the real model: requests decoded together give what each gives alone,
 * a new request starts within a bounded number of steps, a repeated prefix is not evaluated again. Requests are
 * queued while the decode loop is held ({@link TestModels#holdDecoding}), so they start in the same step.
 */
class BatchingTest {

    static final List<String> PROMPTS = List.of("Once upon a time", "The dog ran to the park", "Lily and Ben",
            "One day, a little bird");
    static LlamaCppEngine batched;
    static LlamaCppEngine alone; // one lane: a request at a time, the reference
    static List<String> reference = new ArrayList<>();

    @BeforeAll
    static void open() {
        batched = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withParallel(4).withThreads(2).withContextSize(512));
        alone = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withParallel(1).withThreads(2).withContextSize(512));
        for (String p : PROMPTS) {
            reference.add(alone.complete(CompletionRequest.of(p, greedy(48))).text());
        }
    }

    @AfterAll
    static void close() {
        batched.close();
        alone.close();
    }

    @Test
    void requestsDecodedTogether_giveWhatEachGivesAlone_inSharedSteps() throws Exception {
        CountDownLatch hold = TestModels.holdDecoding(batched);
        long before = batched.scheduler().steps();
        List<TokenStream> streams = new ArrayList<>();
        for (String p : PROMPTS) {
            streams.add(batched.stream(CompletionRequest.of(p, greedy(48))));
        }
        hold.countDown();
        List<ChatResult> results = new ArrayList<>();
        for (TokenStream s : streams) {
            results.add(s.result());
        }
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertThat(results.get(i).text()).as(PROMPTS.get(i)).isEqualTo(reference.get(i));
        }
        int tokens = results.stream().mapToInt(r -> r.usage().completionTokens()).sum();
        long steps = batched.scheduler().steps() - before;
        // one step made a token for each of the four: alone they would have taken a step per token
        assertThat(steps).isLessThanOrEqualTo(49).isLessThan(tokens);
    }

    @Test
    void aCancelledStreamAndASession_beside_batchedRequests_changeNothingForTheOthers() throws Exception {
        ChatResult sessionAlone;
        try (LlamaSession s = alone.openSession("A story for children.", greedy(32))) {
            s.send("Tell me about a cat.");
            sessionAlone = s.send("What did the cat do next?");
        }
        try (LlamaSession session = batched.openSession("A story for children.", greedy(32))) {
            session.send("Tell me about a cat.");
            TokenStream turn = session.stream(ChatMessage.user("What did the cat do next?")); // its prompt is built on the loop
            CountDownLatch hold = TestModels.holdDecoding(batched);
            TokenStream cancelled = batched.stream(CompletionRequest.of("The cat sat", greedy(200)));
            List<TokenStream> streams = new ArrayList<>();
            for (String p : PROMPTS.subList(0, 2)) {
                streams.add(batched.stream(CompletionRequest.of(p, greedy(48))));
            }
            hold.countDown();
            assertThat(cancelled.hasNext()).isTrue();
            assertThat(cancelled.next()).isInstanceOf(StreamEvent.Text.class);
            cancelled.cancel();
            assertThat(cancelled.result().finishReason()).isEqualTo(FinishReason.CANCELLED);
            for (int i = 0; i < streams.size(); i++) {
                assertThat(streams.get(i).result().text()).isEqualTo(reference.get(i));
            }
            ChatResult second = turn.result();
            assertThat(second.text()).isEqualTo(sessionAlone.text());
            assertThat(second.usage().cachedTokens()).isEqualTo(sessionAlone.usage().cachedTokens());
        }
    }

    @Test
    void aNewRequest_startsWithinABoundedNumberOfSteps_whileALongGenerationRuns() throws Exception {
        try (LlamaCppEngine engine = LlamaCppEngine.open(new LlamaCppConfig(TestModels.stories(), null, 512, 2, 16, 2, null))) {
            TokenStream longOne = engine.stream(CompletionRequest.of("Once upon a time", greedy(400)));
            assertThat(longOne.hasNext()).isTrue();
            CountDownLatch hold = TestModels.holdDecoding(engine);
            String prompt = "Lily and Ben went to the park to play with their ball. They saw a big dog and a small cat. "
                    + "The dog was brown and the cat was white.";
            int promptTokens = engine.model().tokenize(prompt, true, true).length;
            Generation newOne = (Generation) engine.stream(CompletionRequest.of(prompt, greedy(8)));
            hold.countDown();
            assertThat(newOne.hasNext()).isTrue();
            // 16 tokens a step, one of them the running generation's: its prompt in chunks of 15, then its first token
            long bound = (promptTokens + 14) / 15;
            assertThat(promptTokens).isGreaterThan(30);
            assertThat(newOne.stepsToFirstToken()).isBetween(1L, bound);
            assertThat(longOne.result().usage().completionTokens()).isGreaterThan(30);
            assertThat(newOne.firstTokenStep).isLessThan(((Generation) longOne).endStep); // it kept generating meanwhile
        }
    }

    /** A step's threads follow its work: one for the bundled model's small steps, all of them for a 1B model's every step. */
    @Test
    void aStepsThreads_followItsWork() {
        long stories = 292_800; // stories260K's parameters, as llama.cpp counts them
        assertThat(Scheduler.threadsFor(1, stories, 2)).isEqualTo(1);
        assertThat(Scheduler.threadsFor(64, stories, 2)).isEqualTo(1); // a step of 16 clients' prompts
        assertThat(Scheduler.threadsFor(512, stories, 2)).isEqualTo(2); // a long prompt read at once
        assertThat(Scheduler.threadsFor(512, stories, 8)).isEqualTo(4);
        assertThat(Scheduler.threadsFor(1, 1_235_814_400L, 2)).isEqualTo(2);
        assertThat(Scheduler.threadsFor(1, 1_235_814_400L, 64)).isEqualTo(38);
        assertThat(Scheduler.threadsFor(0, 0, 4)).isEqualTo(1);
    }

    @Test
    void beyondParallel_aRequestWaitsForALane() throws Exception {
        CountDownLatch hold = TestModels.holdDecoding(alone);
        Generation first = (Generation) alone.stream(CompletionRequest.of(PROMPTS.get(0), greedy(48)));
        Generation second = (Generation) alone.stream(CompletionRequest.of(PROMPTS.get(1), greedy(48)));
        hold.countDown();
        assertThat(second.result().text()).isEqualTo(reference.get(1));
        assertThat(first.result().text()).isEqualTo(reference.get(0));
        assertThat(second.firstTokenStep).isGreaterThanOrEqualTo(first.endStep);
    }

    @Test
    void aRepeatedPrefix_isCopiedFromTheCache_givesTheSameText_andLeavesTheSourceCached() {
        String prefix = "Lily and Ben went to the park to play with their ball. They saw a big dog and a small cat. ";
        try (LlamaCppEngine fresh = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withParallel(4).withThreads(2)
                .withContextSize(512))) { // its streams empty, whatever the other tests left in batched's
            int prefixTokens = fresh.model().tokenize(prefix, true, true).length;
            ChatResult first = fresh.complete(CompletionRequest.of(prefix + "The dog", greedy(24)));
            ChatResult second = fresh.complete(CompletionRequest.of(prefix + "The cat", greedy(24)));
            assertThat(second.usage().cachedTokens()).isGreaterThanOrEqualTo(prefixTokens - 1);
            assertThat(second.usage().evaluatedTokens()).isLessThan(second.usage().promptTokens() - prefixTokens + 2);
            assertThat(second.text()).isEqualTo(alone.complete(CompletionRequest.of(prefix + "The cat", greedy(24))).text());
            // the prefix was copied into an empty stream: the first request's sequence is still cached whole
            ChatResult firstAgain = fresh.complete(CompletionRequest.of(prefix + "The dog", greedy(24)));
            assertThat(firstAgain.usage().cachedTokens()).isEqualTo(first.usage().promptTokens() - 1);
            assertThat(firstAgain.text()).isEqualTo(first.text()).isNotBlank();
        }
    }

    @Test
    void aChatSentAgainByAStatelessClient_evaluatesOnlyItsNewMessage() {
        List<ChatMessage> turn1 = List.of(ChatMessage.system("A story for children."), ChatMessage.user("Tell me about a frog."));
        ChatResult a = batched.chat(ChatRequest.builder().messages(turn1).sampling(greedy(24)).build());
        List<ChatMessage> turn2 = new ArrayList<>(turn1);
        turn2.add(ChatMessage.assistant(a.text()));
        turn2.add(ChatMessage.user("What did the frog eat?"));
        ChatResult b = batched.chat(ChatRequest.builder().messages(turn2).sampling(greedy(24)).build());
        int newMessage = batched.model().tokenize("\nUser: What did the frog eat?\nAssistant:", false, false).length;
        assertThat(b.usage().cachedTokens()).isGreaterThanOrEqualTo(a.usage().promptTokens());
        assertThat(b.usage().evaluatedTokens()).isLessThanOrEqualTo(newMessage + 3);
        assertThat(b.text()).isEqualTo(alone.chat(ChatRequest.builder().messages(turn2).sampling(greedy(24)).build()).text());
    }

    @Test
    void evictedSessions_keepTheirCellsInHostMemory_andAnswerAsIfTheyHadNotBeen() {
        // one lane has two streams (a sequence each), so nine sessions evict each other, their cells kept in host memory
        // (nine short conversations are within two windows of tokens) and written back at their next turn; eight lanes
        // have nine streams, so there none is evicted
        List<Integer> cachedKept = new ArrayList<>();
        List<String> kept;
        try (LlamaCppEngine nine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withParallel(8).withThreads(2)
                .withContextSize(512))) {
            kept = secondTurns(nine, cachedKept);
        }
        List<Integer> cached = new ArrayList<>();
        List<String> evicted = secondTurns(alone, cached);
        assertThat(evicted).isEqualTo(kept);
        assertThat(cached).isEqualTo(cachedKept);
        assertThat(cached).allMatch(n -> n > 20); // each its whole first turn, not only the system prompt they share
        assertThat(alone.complete(CompletionRequest.of(PROMPTS.get(0), greedy(48))).text()).isEqualTo(reference.get(0));
    }

    private static List<String> secondTurns(LlamaCppEngine engine, List<Integer> cachedTokens) {
        List<LlamaSession> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < 9; i++) {
                LlamaSession s = engine.openSession("Be kind.", greedy(24));
                sessions.add(s);
                s.send("Tell me about dog number " + i + ".");
            }
            List<String> answers = new ArrayList<>();
            for (LlamaSession s : sessions) {
                ChatResult r = s.send("Tell me more.");
                answers.add(r.text());
                cachedTokens.add(r.usage().cachedTokens());
            }
            return answers;
        } finally {
            sessions.forEach(LlamaSession::close);
        }
    }

    @Test
    void idleRequests_keepTheirStreams_theLeastRecentlyUsedGoesFirst() {
        List<String> prompts = new ArrayList<>();
        for (String who : List.of("Lily", "Ben", "Tom")) {
            prompts.add(who + " had a red ball and a blue kite. " + (who + " went to the park with mom. ").repeat(36));
        }
        ChatResult lily = alone.complete(CompletionRequest.of(prompts.get(0), greedy(16)));
        ChatResult ben = alone.complete(CompletionRequest.of(prompts.get(1), greedy(16)));
        assertThat(lily.usage().promptTokens()).isBetween(300, 480);
        // one lane has two streams (its own and a shield's): Tom's request takes the stream of Lily's, the older
        ChatResult tom = alone.complete(CompletionRequest.of(prompts.get(2), greedy(16)));
        assertThat(tom.usage().cachedTokens()).isLessThanOrEqualTo(1);
        ChatResult benAgain = alone.complete(CompletionRequest.of(prompts.get(1), greedy(16)));
        assertThat(benAgain.usage().cachedTokens()).isEqualTo(ben.usage().promptTokens() - 1);
        assertThat(benAgain.text()).isEqualTo(ben.text());
        ChatResult lilyAgain = alone.complete(CompletionRequest.of(prompts.get(0), greedy(16)));
        assertThat(lilyAgain.usage().cachedTokens()).isLessThanOrEqualTo(1);
        assertThat(lilyAgain.text()).isEqualTo(lily.text());
    }

    @Test
    void sessionsKeptInHostMemory_holdAtMostTheCachesTokens_theOldestDroppedFirst() {
        // one lane has two streams (its own and a shield's) of a 512-token window: host memory keeps up to 1,024 tokens
        // of evicted sessions' cells. Tom's and Sam's turns evict Lily and Ben (kept); Max's evicts Tom, and Lily's, the
        // oldest kept, are dropped. Sam's stay in its stream.
        List<LlamaSession> sessions = new ArrayList<>();
        try {
            List<Integer> firstTurn = new ArrayList<>();
            for (String who : List.of("Lily", "Ben", "Tom", "Sam", "Max")) {
                LlamaSession s = alone.openSession("Be kind.", greedy(16));
                sessions.add(s);
                ChatResult r = s.send(who + " had a red ball. " + (who + " went to the park with mom and dad. ").repeat(55));
                firstTurn.add(r.usage().promptTokens() + r.usage().completionTokens());
            }
            assertThat(firstTurn).allMatch(n -> n > 400);
            ChatResult sam = sessions.get(3).send("Go on.");
            assertThat(sam.usage().cachedTokens()).isGreaterThanOrEqualTo(firstTurn.get(3) - 2); // still in its stream
            ChatResult ben = sessions.get(1).send("Go on.");
            assertThat(ben.usage().cachedTokens()).isGreaterThanOrEqualTo(firstTurn.get(1) - 2); // written back
            assertThat(ben.text()).isNotBlank();
            ChatResult lily = sessions.get(0).send("Go on.");
            assertThat(lily.usage().cachedTokens()).isLessThan(20); // read again after the system prompt
            assertThat(lily.usage().promptTokens()).isGreaterThan(firstTurn.getFirst());
            assertThat(lily.text()).isNotBlank();
        } finally {
            sessions.forEach(LlamaSession::close);
        }
    }

    @Test
    void aPromptBeyondTheWindow_isRefusedWithAClearError() {
        String prompt = "Once upon a time there was a girl. ".repeat(80);
        assertThatThrownBy(() -> batched.complete(CompletionRequest.of(prompt, greedy(8))))
                .isInstanceOf(ContextOverflowException.class).hasMessageContaining("context window of 512");
    }
}

package io.corral.testing;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.FinishReason;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every {@link InferenceProvider} must do, whatever runs the model: the in-process engine, a remote
 * host, a router over several. An implementation's test extends this and says which provider and model to
 * use; what a provider cannot do (by its model's capabilities) is skipped, never passed empty. The model must
 * be deterministic at temperature 0 (the same prompt gives the same answer).
 */
public abstract class InferenceProviderContract {

    /** The provider under test, ready to serve {@link #model()}. */
    protected abstract InferenceProvider provider();

    /** A model it serves, by the id requests use. */
    protected abstract String model();

    protected String prompt() {
        return "Once upon a time";
    }

    protected static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).build();
    }

    private ChatRequest chat(int maxTokens) {
        return ChatRequest.builder().model(model()).user(prompt()).sampling(greedy(maxTokens)).build();
    }

    private ModelInfo info() {
        return provider().models().stream().filter(m -> m.id().equals(model())).findFirst()
                .orElseThrow(() -> new AssertionError(model() + " is not among " + provider().models()));
    }

    private void assume(Capability c) {
        Assumptions.assumeTrue(info().capabilities().contains(c), () -> model() + " cannot " + c);
    }

    @Test
    void listsItsModel_withATypeAndWhatItCanDo() {
        ModelInfo m = info();
        assertThat(m.type()).isNotNull();
        assertThat(m.capabilities()).isNotEmpty();
        assertThat(provider().id()).isNotBlank();
        assertThat(provider().type()).isNotBlank();
    }

    @Test
    void chat_answers_withUsageAndMetricsNamingTheRunner() {
        assume(Capability.CHAT);
        ChatResult r = provider().chat(chat(8));
        assertThat(r.text()).isNotEmpty();
        assertThat(r.finishReason()).isIn(FinishReason.LENGTH, FinishReason.STOP);
        assertThat(r.usage().promptTokens()).isPositive();
        assertThat(r.usage().completionTokens()).isBetween(1, 8);
        assertThat(r.metrics().provider()).isNotBlank();
        assertThat(r.metrics().latency()).isPositive();
    }

    @Test
    void aStream_handsOutTextThenOneFinish_agreeingWithItsResult_andWithTheWholeAnswer() {
        assume(Capability.CHAT);
        List<StreamEvent> events = new ArrayList<>();
        ChatResult streamed;
        try (TokenStream s = provider().stream(chat(16))) {
            s.forEachRemaining(events::add);
            streamed = s.result();
        }
        assertThat(events).hasSizeGreaterThan(2);
        assertThat(events.getLast()).isInstanceOf(StreamEvent.Finish.class);
        assertThat(events.subList(0, events.size() - 1)).allMatch(e -> e instanceof StreamEvent.Text);
        StreamEvent.Finish finish = (StreamEvent.Finish) events.getLast();
        String text = events.stream().filter(e -> e instanceof StreamEvent.Text).map(e -> ((StreamEvent.Text) e).text())
                .collect(Collectors.joining());
        assertThat(text).isEqualTo(streamed.text()).isNotEmpty();
        assertThat(finish.reason()).isEqualTo(streamed.finishReason());
        assertThat(finish.usage()).isEqualTo(streamed.usage());
        assertThat(provider().chat(chat(16)).text()).isEqualTo(text); // greedy: streamed or whole, the same answer
    }

    @Test
    void cancelling_endsTheStream_withCancelled() {
        assume(Capability.CHAT);
        try (TokenStream s = provider().stream(chat(0))) {
            assertThat(s.next()).isInstanceOf(StreamEvent.Text.class);
            s.cancel();
            ChatResult r = s.result();
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(s.hasNext()).isFalse();
        }
    }

    @Test
    void aForcedToolCall_streamsItsArgumentsInPieces_thatJoinToTheResultsCall() {
        assume(Capability.TOOLS);
        ChatRequest ask = ChatRequest.builder().model(model()).user("Weather?").sampling(greedy(200))
                .tool(new ToolSpec("get_weather", "Weather in a city", "{\"type\":\"object\",\"properties\":"
                        + "{\"city\":{\"type\":\"string\",\"maxLength\":12}},\"required\":[\"city\"]}"))
                .toolChoice(ToolChoice.REQUIRED).build();
        List<StreamEvent.ToolCallDelta> pieces = new ArrayList<>();
        ChatResult r;
        try (TokenStream s = provider().stream(ask)) {
            s.forEachRemaining(e -> {
                if (e instanceof StreamEvent.ToolCallDelta d) {
                    pieces.add(d);
                }
            });
            r = s.result();
        }
        assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
        assertThat(pieces.getFirst().name()).isEqualTo("get_weather");
        assertThat(pieces).hasSizeGreaterThan(2);
        String joined = pieces.stream().map(StreamEvent.ToolCallDelta::arguments).collect(Collectors.joining());
        assertThat(r.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.id()).isEqualTo(pieces.getFirst().id());
            assertThat(c.name()).isEqualTo("get_weather");
            assertThat(c.arguments()).isEqualTo(joined);
        });
        assertThat(joined).startsWith("{").endsWith("}").contains("\"city\"");
    }

    @Test
    void aCompletion_continuesARawPrompt_likeTheStream() {
        assume(Capability.COMPLETION);
        CompletionRequest c = new CompletionRequest(model(), prompt(), greedy(12), null);
        ChatResult whole = provider().complete(c);
        assertThat(whole.text()).isNotEmpty();
        StringBuilder streamed = new StringBuilder();
        try (TokenStream s = provider().stream(c)) {
            s.forEachText(streamed::append);
        }
        assertThat(streamed.toString()).isEqualTo(whole.text());
    }

    @Test
    void embeddings_areOneVectorPerInput_ofTheModelsSize() {
        assume(Capability.EMBEDDINGS);
        EmbeddingResult e = provider().embed(new EmbeddingRequest(model(), List.of("a cat", "a dog", "the stock market")));
        assertThat(e.vectors()).hasSize(3);
        int size = e.vectors().getFirst().length;
        assertThat(size).isPositive();
        assertThat(e.vectors()).allSatisfy(v -> assertThat(v).hasSize(size));
        if (info().dimension() > 0) {
            assertThat(size).isEqualTo(info().dimension());
        }
        assertThat(e.vectors().get(0)).isNotEqualTo(e.vectors().get(2));
    }
}

package io.corral.it;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EngineException;
import io.corral.api.FinishReason;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.RateLimitedException;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.UnavailableException;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The remote provider against real servers on loopback: a second Corral, and a misbehaving engine. */
class OpenAiRemoteProviderTest {

    static final String REFERENCE = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";
    static CorralServer upstream;
    static OpenAiRemoteProvider remote;

    static Path stories() {
        return Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf");
    }

    @BeforeAll
    static void start() {
        upstream = CorralServer.start(ServerConfig.defaults().withPort(0),
                List.of(LlamaCppEngine.open(LlamaCppConfig.of(stories()).withThreads(1))));
        remote = new OpenAiRemoteProvider(RemoteConfig.of(Preset.LLAMASTACK, upstream.url() + "/v1"));
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    static SamplingParams greedy(int n) {
        return SamplingParams.builder().temperature(0).maxTokens(n).build();
    }

    @Test
    void discovery_readsTheHostsModels_withMetadata() {
        var models = remote.discover();
        assertThat(models).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo("stories260K");
            assertThat(m.provider()).isEqualTo(remote.id());
            assertThat(m.contextLength()).isEqualTo(512);
            assertThat(m.metadata()).containsEntry("quantization", "F32").containsEntry("runtime", "Llama Stack");
        });
        assertThat(remote.probe()).isPositive();
    }

    @Test
    void chatAcrossTheWire_streamedAndWhole_isTheReference() {
        ChatRequest r = ChatRequest.builder().model("stories260K").user("Once upon a time").sampling(greedy(64)).build();
        ChatResult whole = remote.chat(r);
        assertThat(whole.text()).isEqualTo(REFERENCE);
        assertThat(whole.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(whole.usage().completionTokens()).isEqualTo(64);
        assertThat(whole.metrics().provider()).isEqualTo(remote.id());
        List<String> pieces = new ArrayList<>();
        try (TokenStream s = remote.stream(r)) {
            s.forEachText(pieces::add);
        }
        assertThat(String.join("", pieces)).isEqualTo(REFERENCE);
        assertThat(pieces.size()).isGreaterThan(40);
        assertThat(remote.complete(new CompletionRequest("stories260K", "Once upon a time", greedy(64), null)).text())
                .isEqualTo(REFERENCE);
    }

    @Test
    void aStreamedToolCall_arrivesAsTypedPieces_thatJoinToTheResultsCall() throws Exception {
        ChatRequest r = ChatRequest.builder().model("stories260K").user("Weather?").sampling(greedy(200))
                .tool(new ToolSpec("get_weather", "Weather in a city",
                        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":12}},\"required\":[\"city\"]}"))
                .toolChoice(ToolChoice.REQUIRED).build();
        List<StreamEvent> events = new ArrayList<>();
        ChatResult result;
        try (TokenStream s = remote.stream(r)) {
            s.forEachRemaining(events::add);
            result = s.result();
        }
        List<StreamEvent.ToolCallDelta> pieces = events.stream().filter(e -> e instanceof StreamEvent.ToolCallDelta)
                .map(e -> (StreamEvent.ToolCallDelta) e).toList();
        assertThat(events).noneMatch(e -> e instanceof StreamEvent.Text);
        assertThat(pieces.getFirst().name()).isEqualTo("get_weather");
        assertThat(pieces.getFirst().id()).startsWith("call_");
        assertThat(pieces).hasSizeGreaterThan(3).allSatisfy(p -> assertThat(p.index()).isZero());
        assertThat(pieces.subList(1, pieces.size())).allSatisfy(p -> assertThat(p.id()).isNull());
        assertThat(events.getLast()).isInstanceOfSatisfying(StreamEvent.Finish.class,
                f -> assertThat(f.reason()).isEqualTo(FinishReason.TOOL_CALLS));
        String joined = pieces.stream().map(StreamEvent.ToolCallDelta::arguments).collect(java.util.stream.Collectors.joining());
        assertThat(result.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.id()).isEqualTo(pieces.getFirst().id());
            assertThat(c.arguments()).isEqualTo(joined);
        });
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(joined).has("city")).isTrue();
    }

    @Test
    void embeddingsAcrossTheWire() {
        var e = remote.embed(new EmbeddingRequest("stories260K", List.of("a cat", "a dog")));
        assertThat(e.vectors()).hasSize(2);
        assertThat(e.vectors().getFirst()).hasSize(64);
    }

    static ChatResult streamed(OpenAiRemoteProvider p, ChatRequest r) {
        try (TokenStream s = p.stream(r)) {
            return s.result();
        }
    }

    @Test
    void upstreamErrors_becomeTypedErrors() throws Exception {
        assertThatThrownBy(() -> remote.chat(ChatRequest.builder().model("nope").user("x").build()))
                .isInstanceOf(ModelNotFoundException.class);
        var dead = new OpenAiRemoteProvider(RemoteConfig.of(Preset.LLAMACPP, "http://127.0.0.1:1/v1"));
        assertThatThrownBy(dead::discover).isInstanceOf(UnavailableException.class).hasMessageContaining("cannot connect");
        try (FaultyUpstream f = new FaultyUpstream()) {
            var p = new OpenAiRemoteProvider(RemoteConfig.of(Preset.VLLM, f.baseUrl())
                    .withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(500)));
            ChatRequest r = ChatRequest.builder().model("faulty-model").user("x").build();
            f.mode = FaultyUpstream.Mode.STATUS_500;
            assertThatThrownBy(() -> p.chat(r)).isInstanceOf(UnavailableException.class).hasMessageContaining("boom");
            f.mode = FaultyUpstream.Mode.STATUS_429;
            assertThatThrownBy(() -> p.chat(r)).isInstanceOf(RateLimitedException.class).hasMessageContaining("slow down");
            f.mode = FaultyUpstream.Mode.STALL;
            assertThatThrownBy(() -> p.chat(r)).isInstanceOf(InferenceTimeoutException.class);
            f.mode = FaultyUpstream.Mode.CUT_MIDWAY;
            List<String> got = new ArrayList<>();
            try (TokenStream s = p.stream(r)) {
                assertThatThrownBy(() -> s.forEachText(got::add)).isInstanceOf(UnavailableException.class)
                        .hasMessageContaining("after 2 pieces");
            }
            assertThat(String.join("", got)).isEqualTo("Hello wor");
            f.mode = FaultyUpstream.Mode.MALFORMED;
            assertThatThrownBy(() -> streamed(p, r)).isInstanceOf(EngineException.class).hasMessageContaining("malformed");
            f.mode = FaultyUpstream.Mode.QUIRKY;
            ChatResult quirky = streamed(p, r);
            assertThat(quirky.text()).isEqualTo("Hi");
            assertThat(quirky.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(quirky.toolCalls()).isEmpty();
            f.mode = FaultyUpstream.Mode.OK;
            ChatResult ok = streamed(p, r);
            assertThat(ok.text()).isEqualTo("Hello world");
            assertThat(ok.usage().promptTokens()).isEqualTo(3);
            assertThat(p.discover()).singleElement().satisfies(m -> assertThat(m.contextLength()).isEqualTo(4096));
        }
    }
}

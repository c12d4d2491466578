package io.corral.routing;

import io.corral.api.ChatRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.cut;
import static io.corral.testing.ScriptedProvider.fail;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the router tells about its runners' health, and embeddings through the routing loop; scripted runners. */
class RouterHealthTest {

    final AtomicLong now = new AtomicLong();
    final List<String> told = Collections.synchronizedList(new ArrayList<>());

    final Router.Health recording = new Router.Health() {
        public boolean healthy(InferenceProvider p) {
            return true;
        }

        public void succeeded(InferenceProvider p) {
            told.add("ok " + p.id());
        }

        public void failed(InferenceProvider p, RuntimeException e) {
            told.add("failed " + p.id() + ": " + e.getMessage());
        }
    };

    Router router(InferenceProvider... providers) {
        List<Router.Runner> runners = new ArrayList<>();
        for (InferenceProvider p : providers) {
            runners.add(new Router.Runner(p, "m", new CircuitBreaker(2, Duration.ofSeconds(30), now::get)));
        }
        return new Router(ModelInfo.llm("m", "router", 0, Set.of(), Map.of()), runners,
                new Router.Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ZERO), recording);
    }

    static ChatRequest ask() {
        return ChatRequest.builder().model("m").user("hi").build();
    }

    static ScriptedProvider embedder(String id) {
        return new ScriptedProvider(id, true, EnumSet.of(Capability.EMBEDDINGS), "m");
    }

    @Test
    void aFailedTry_isToldAtOnce_andTheNextRunnersSuccessToo() {
        ScriptedProvider a = ScriptedProvider.chat("a", "m").then(fail(new UnavailableException("refused")));
        ScriptedProvider b = ScriptedProvider.chat("b", "m").then(answer("hello"));
        assertThat(router(a, b).chat(ask()).text()).isEqualTo("hello");
        assertThat(told).containsExactly("failed a: refused", "ok b");
    }

    @Test
    void aStreamCutAfterItsFirstToken_isToldAsAFailure() {
        ScriptedProvider a = ScriptedProvider.chat("a", "m").then(cut(new InferenceTimeoutException("went silent"), "x", "y"));
        try (TokenStream s = router(a).stream(ask())) {
            assertThatThrownBy(() -> s.forEachRemaining(t -> { })).isInstanceOf(InferenceTimeoutException.class);
        }
        assertThat(told).containsExactly("ok a", "failed a: went silent");
    }

    @Test
    void embed_skipsARunnerWhoseBreakerIsOpen() {
        ScriptedProvider a = embedder("a").then(fail(new UnavailableException("down")));
        ScriptedProvider b = embedder("b");
        Router r = router(a, b);
        EmbeddingRequest req = new EmbeddingRequest("m", List.of("hello"));
        r.embed(req); // a fails (1), b answers
        r.embed(req); // a fails (2): its breaker opens
        assertThat(a.requests()).hasSize(2);
        EmbeddingResult third = r.embed(req);
        assertThat(a.requests()).hasSize(2); // not asked again while its breaker is open
        assertThat(third.vectors()).hasSize(1);
        assertThat(b.requests()).hasSize(3);
    }

    @Test
    void embed_fallsBack_andGivesUpWithTheLastFailure() {
        ScriptedProvider a = embedder("a").then(fail(new UnavailableException("a is down")));
        ScriptedProvider b = embedder("b").then(fail(new UnavailableException("b is down")));
        assertThatThrownBy(() -> router(a, b).embed(new EmbeddingRequest("m", List.of("x"))))
                .isInstanceOf(UnavailableException.class).hasMessageContaining("b is down");
        assertThat(told).containsExactly("failed a: a is down", "failed b: b is down");
    }
}

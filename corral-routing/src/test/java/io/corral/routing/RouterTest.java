package io.corral.routing;

import com.sun.net.httpserver.HttpServer;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.ContentPart;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import io.corral.spi.ModelInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Routing between the real in-process engine and a real remote host on loopback whose behaviour the
 * test switches (healthy, failing with 500, cutting its stream), with an injected clock.
 */
class RouterTest {

    static LlamaCppEngine local;
    HttpServer host;
    volatile String mode = "ok";
    final AtomicInteger hits = new AtomicInteger();
    final AtomicLong now = new AtomicLong();
    OpenAiRemoteProvider remote;

    @BeforeAll
    static void loadLocal() {
        Path model = Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf");
        local = LlamaCppEngine.open(LlamaCppConfig.of(model).withThreads(1));
    }

    @AfterAll
    static void closeLocal() {
        local.close();
    }

    @BeforeEach
    void startHost() throws Exception {
        host = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        host.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        host.createContext("/v1/chat/completions", ex -> {
            hits.incrementAndGet();
            boolean streamed = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).contains("\"stream\":true");
            if (mode.equals("fail")) {
                byte[] b = "{\"error\":{\"message\":\"overloaded\"}}".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(503, b.length);
                ex.getResponseBody().write(b);
                ex.close();
                return;
            }
            if (!streamed) { // a whole answer is asked for as one JSON body
                byte[] b = ("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"remote\"},"
                        + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}").getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                ex.close();
                return;
            }
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            out.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"remote\"}}]}\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (mode.equals("cut")) {
                ex.close();
                return;
            }
            out.write("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
                    .getBytes(StandardCharsets.UTF_8));
            out.close();
        });
        host.start();
        remote = new OpenAiRemoteProvider(RemoteConfig.of(Preset.OPENAI, "http://127.0.0.1:" + host.getAddress().getPort() + "/v1"));
    }

    @AfterEach
    void stopHost() {
        host.stop(0);
    }

    Router router(RoutingMode mode) {
        ModelInfo info = ModelInfo.llm("story", "router", 512, Set.of(), Map.of());
        return new Router(info, List.of(
                new Router.Runner(local, "stories260K", new CircuitBreaker(3, Duration.ofSeconds(30), now::get)),
                new Router.Runner(remote, "remote-model", new CircuitBreaker(3, Duration.ofSeconds(30), now::get))),
                new Router.Policy(mode, 3, Duration.ofMillis(1)), p -> true);
    }

    static ChatRequest ask() {
        return ChatRequest.builder().model("story").user("Once upon a time")
                .sampling(SamplingParams.builder().temperature(0).maxTokens(8).build()).build();
    }

    @Test
    void remoteFirst_healthyRemote_servesInOneAttempt() {
        ChatResult r = router(RoutingMode.REMOTE_FIRST).chat(ask());
        assertThat(r.text()).isEqualTo("remote");
        assertThat(r.metrics().provider()).isEqualTo(remote.id());
        assertThat(r.metrics().attempts()).isEqualTo(1);
    }

    @Test
    void localFirst_usesTheInProcessEngine() {
        ChatResult r = router(RoutingMode.LOCAL_FIRST).chat(ask());
        assertThat(r.text()).isEqualTo(", there was a little girl");
        assertThat(r.metrics().provider()).isEqualTo("llamacpp");
        assertThat(hits).hasValue(0);
    }

    @Test
    void failingRemote_fallsBackToLocal_andTheMetricsSaySo() {
        mode = "fail";
        ChatResult r = router(RoutingMode.REMOTE_FIRST).chat(ask());
        assertThat(r.metrics().provider()).isEqualTo("llamacpp");
        assertThat(r.metrics().attempts()).isEqualTo(2);
        assertThat(r.text()).isEqualTo(", there was a little girl");
    }

    @Test
    void breaker_keepsAFailingHostOut_untilItsCoolDown() {
        mode = "fail";
        Router router = router(RoutingMode.REMOTE_FIRST);
        for (int i = 0; i < 3; i++) {
            router.chat(ask());
        }
        assertThat(hits).hasValue(3);
        for (int i = 0; i < 3; i++) {
            assertThat(router.chat(ask()).metrics().attempts()).isEqualTo(1); // straight to local
        }
        assertThat(hits).hasValue(3);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        mode = "ok";
        assertThat(router.chat(ask()).metrics().provider()).isEqualTo(remote.id()); // the trial succeeds
        assertThat(hits).hasValue(4);
    }

    @Test
    void remoteOnly_withNothingHealthy_isUnavailable() {
        mode = "fail";
        assertThatThrownBy(() -> router(RoutingMode.REMOTE_ONLY).chat(ask()))
                .isInstanceOf(UnavailableException.class).hasMessageContaining("no runner could serve story")
                .hasMessageContaining("overloaded");
    }

    @Test
    void deadHost_fallsBack() {
        host.stop(0);
        ChatResult r = router(RoutingMode.REMOTE_FIRST).chat(ask());
        assertThat(r.metrics().provider()).isEqualTo("llamacpp");
        assertThat(r.metrics().attempts()).isEqualTo(2);
    }

    @Test
    void cutAfterTokens_isReportedInTheStream_notRetried() {
        mode = "cut";
        List<String> got = new ArrayList<>();
        try (TokenStream s = router(RoutingMode.REMOTE_FIRST).stream(ask())) {
            assertThatThrownBy(() -> s.forEachText(got::add)).isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("after 1 pieces");
        }
        assertThat(got).containsExactly("remote");
        assertThat(hits).hasValue(1);
    }

    @Test
    void aRequestNoRunnerCanDo_isRefused() {
        ChatMessage image = new ChatMessage(Role.USER, List.of(ContentPart.text("what?"), ContentPart.image("data:,")), null, null);
        assertThatThrownBy(() -> router(RoutingMode.LOCAL_ONLY).chat(ChatRequest.builder().message(image).build()))
                .isInstanceOf(UnavailableException.class);
        assertThatThrownBy(() -> new Router(ModelInfo.llm("m", "r", 0, Set.of(), Map.of()), List.of(
                new Router.Runner(local, "stories260K", new CircuitBreaker(3, Duration.ofSeconds(1), now::get))),
                Router.Policy.DEFAULT, p -> true).chat(ChatRequest.builder().message(image).build()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("does not accept images");
    }
}

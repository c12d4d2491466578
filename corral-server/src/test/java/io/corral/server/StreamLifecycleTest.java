package io.corral.server;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What happens to a generation when its client leaves or the server stops. The real engine is paced
 * (5 ms a token) so that a 512-token answer outlasts the test's actions, and each stream's result is
 * recorded when the server closes it.
 */
class StreamLifecycleTest {

    /** A provider (the real engine), pacing each token by {@code millis} and recording how each stream ended. */
    record Paced(InferenceProvider engine, CompletableFuture<ChatResult> ended, long millis) implements InferenceProvider {
        public String id() { return engine.id(); }
        public String type() { return engine.type(); }
        public String vendor() { return engine.vendor(); }
        public Set<Capability> capabilities() { return engine.capabilities(); }
        public List<ModelInfo> models() { return engine.models(); }
        public TokenStream stream(ChatRequest r) { return paced(engine.stream(r)); }
        public TokenStream stream(CompletionRequest r) { return paced(engine.stream(r)); }
        public void close() { engine.close(); }

        private TokenStream paced(TokenStream s) {
            return new TokenStream() {
                public boolean hasNext() { return s.hasNext(); }
                public StreamEvent next() {
                    try {
                        Thread.sleep(millis); // the pace of generation, not an ordering
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return s.next();
                }
                public void cancel() { s.cancel(); }
                public ChatResult result() { return s.result(); }
                public void close() {
                    s.close();
                    ended.complete(s.result());
                }
            };
        }
    }

    static Paced paced() {
        return new Paced(LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1)), new CompletableFuture<>(), 5);
    }

    static Socket openStream(CorralServer server) throws Exception {
        Socket socket = new Socket("127.0.0.1", server.port());
        String body = "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],"
                + "\"temperature\":0,\"stream\":true}";
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        out.flush();
        return socket;
    }

    @Test
    void clientDisconnect_stopsTheGenerationInTheEngine() throws Exception {
        Paced provider = paced();
        try (CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0), List.of(provider))) {
            Socket socket = openStream(server);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int frames = 0;
            for (String line; frames < 5 && (line = in.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    frames++;
                }
            }
            assertThat(frames).isEqualTo(5);
            socket.close(); // the client goes away mid-answer

            ChatResult r = provider.ended().get(10, TimeUnit.SECONDS);
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(r.usage().completionTokens()).isLessThan(500); // of the ~507 the window holds: stopped, not finished
        }
    }

    @Test
    void aClientThatReadsNothing_isHungUpOnAfterTheIdleTimeout_andItsGenerationStops_whileOthersAreServed() throws Exception {
        String[] tokens = new String[20_000]; // 20 MB of answer: far more than the sockets and the server's buffer hold
        java.util.Arrays.fill(tokens, "x".repeat(1000));
        Paced provider = new Paced(io.corral.testing.ScriptedProvider.chat("p", "m").then(io.corral.testing.ScriptedProvider.answer(tokens)),
                new CompletableFuture<>(), 0);
        try (CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0).withIdleTimeout(java.time.Duration.ofSeconds(1)),
                List.of(provider)); Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
            String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}";
            stalled.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            // the client reads nothing: the server's writer waits on it, other clients are served meanwhile
            try (Socket other = new Socket("127.0.0.1", server.port())) {
                assertThat(exchange(other, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200").contains("\"m\"");
            }
            // a second past its last read, the server hangs up and the generation stops, far from its end
            ChatResult ended = provider.ended().get(30, TimeUnit.SECONDS);
            assertThat(ended.usage().completionTokens()).isLessThan(tokens.length);
            stalled.setSoTimeout(30_000);
            byte[] all = stalled.getInputStream().readAllBytes(); // what was under way, then the end of the connection
            assertThat(all.length).isLessThan(tokens.length * 1000);
            assertThat(new String(all, StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200").doesNotContain("data: [DONE]");
        }
    }

    @Test
    void shutdown_endsRunningStreamsWithAnErrorEvent_onceTheGraceIsOver() throws Exception {
        Paced provider = paced();
        CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0).withShutdownGrace(java.time.Duration.ZERO),
                List.of(provider));
        try (Socket socket = openStream(server)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    break; // the stream is running
                }
            }
            CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
            StringBuilder rest = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                rest.append(line).append('\n');
                if (line.equals("data: [DONE]")) {
                    break;
                }
            }
            assertThat(rest.toString()).contains("\"code\":\"server_shutting_down\"").endsWith("data: [DONE]\n");
            closing.get(10, TimeUnit.SECONDS);
            assertThat(provider.ended().get(1, TimeUnit.SECONDS).finishReason()).isEqualTo(FinishReason.CANCELLED);
        }
    }

    @Test
    void shutdown_letsRunningAnswersFinishWithinTheGrace_andRefusesNewOnes() throws Exception {
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        io.corral.testing.ScriptedProvider provider = io.corral.testing.ScriptedProvider.chat("p", "m")
                .then(io.corral.testing.ScriptedProvider.gated(gate, "a", "b", "c"));
        CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0).withShutdownGrace(java.time.Duration.ofMinutes(1)),
                List.of(provider));
        int port = server.port();
        try (Socket kept = new Socket("127.0.0.1", port); Socket streaming = new Socket("127.0.0.1", port)) {
            // a keep-alive connection that has answered once, and a stream waiting on its first token
            assertThat(exchange(kept, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
            String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}";
            streaming.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
            // the server takes no new connection, and refuses a new request on an open one
            String refused = null;
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
                String answer = exchange(kept, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
                if (answer.startsWith("HTTP/1.1 503")) {
                    refused = answer;
                    break;
                }
            }
            assertThat(refused).as("a request after shutdown began").contains("server_shutting_down");
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(java.io.IOException.class);
            assertThat(closing).as("the running answer holds the shutdown").isNotDone();
            gate.countDown(); // the answer goes on, whole
            BufferedReader in = new BufferedReader(new InputStreamReader(streaming.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder all = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                all.append(line).append('\n');
                if (line.equals("data: [DONE]")) {
                    break;
                }
            }
            assertThat(all.toString()).contains("\"content\":\"a\"").contains("\"content\":\"c\"")
                    .doesNotContain("server_shutting_down").endsWith("data: [DONE]\n");
            closing.get(10, TimeUnit.SECONDS);
        }
    }

    /** One request on a keep-alive connection; its status line and body (read by Content-Length). */
    private static String exchange(Socket socket, String request) throws Exception {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
        java.io.InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return head.toString();
            }
            head.append((char) b);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}

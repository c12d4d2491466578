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

/**
 * What happens to a generation when its client leaves or the server stops. The real engine is paced
 * (5 ms a token) so that a 512-token answer outlasts the test's actions, and each stream's result is
 * recorded when the server closes it.
 */
class StreamLifecycleTest {

    /** The real engine, pacing each token and recording how each stream ended. */
    record Paced(LlamaCppEngine engine, CompletableFuture<ChatResult> ended) implements InferenceProvider {
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
                        Thread.sleep(5);
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
        return new Paced(LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1)), new CompletableFuture<>());
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
            assertThat(r.usage().completionTokens()).isLessThan(200); // of up to 512 it would have made
        }
    }

    @Test
    void shutdown_endsRunningStreamsWithAnErrorEvent() throws Exception {
        Paced provider = paced();
        CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0), List.of(provider));
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
}

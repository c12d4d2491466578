package io.corral.server;

import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The public listener at the HTTP level, on raw sockets: requests pipelined on one connection are answered
 * in order, uploads are limited, a client that expects 100-continue gets it, garbage gets a 400. Each test
 * runs on both kinds of listener: the {@link Front} (a remote engine is configured, a host that is down) and
 * the decoding server listening itself (local engines only).
 */
class FrontTest {

    static CorralServer fronted;
    static CorralServer direct;

    @BeforeAll
    static void start() {
        ServerConfig config = ServerConfig.defaults().withPort(0).withLimits(4096, 4).withIdleTimeout(Duration.ofSeconds(2));
        OpenAiRemoteProvider down = new OpenAiRemoteProvider(RemoteConfig.of(Preset.LLAMACPP, "http://127.0.0.1:1/v1"));
        fronted = CorralServer.start(config, List.of(engine(), down));
        direct = CorralServer.start(config, List.of(engine()));
        assertThat(fronted.forwarding()).isTrue();
        assertThat(direct.forwarding()).isFalse();
    }

    private static LlamaCppEngine engine() {
        return LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
    }

    @AfterAll
    static void stop() {
        fronted.close();
        direct.close();
    }

    static Socket connect(boolean front) throws IOException {
        Socket s = new Socket("127.0.0.1", (front ? fronted : direct).port());
        s.setSoTimeout(20_000);
        return s;
    }

    static String chat(int maxTokens) {
        return "{\"model\":\"stories260K\",\"temperature\":0,\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}";
    }

    static String post(String path, String body, String... headers) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + String.join("", List.of(headers).stream().map(h -> h + "\r\n").toList())
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /** Reads one response with a Content-Length body: its head and body. */
    static String[] readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int length = h.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToInt(l -> Integer.parseInt(l.substring(15).strip())).findFirst().orElse(0);
        return new String[]{h, new String(in.readNBytes(length), StandardCharsets.UTF_8)};
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void pipelinedRequests_areAnsweredInOrder_onOneConnection(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            OutputStream out = s.getOutputStream();
            // a slow request first, then a fast one: the fast answer must not overtake
            out.write((post("/v1/chat/completions", chat(40)) + "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                    + post("/v1/chat/completions", chat(3))).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            String[] first = readResponse(in);
            String[] second = readResponse(in);
            String[] third = readResponse(in);
            assertThat(first[0]).startsWith("HTTP/1.1 200");
            assertThat(first[1]).contains("\"completion_tokens\":40");
            assertThat(second[1]).contains("\"status\"");
            assertThat(third[1]).contains("\"completion_tokens\":3");
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void aBodyOverTheLimit_is413_andAnotherRequestStillWorks(boolean front) throws Exception {
        String big = "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(5000) + "\"}]}";
        try (Socket s = connect(front)) {
            s.getOutputStream().write(post("/v1/chat/completions", big).getBytes(StandardCharsets.UTF_8));
            String[] r = readResponse(s.getInputStream());
            assertThat(r[0]).startsWith("HTTP/1.1 413");
            assertThat(r[1]).contains("\"code\":\"request_too_large\"");
        }
        try (Socket s = connect(front)) {
            s.getOutputStream().write(post("/v1/chat/completions", chat(2)).getBytes(StandardCharsets.UTF_8));
            assertThat(readResponse(s.getInputStream())[0]).startsWith("HTTP/1.1 200");
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void expectContinue_isAnswered_beforeTheBodyIsSent(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            String body = chat(2);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                    + body.length() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            String[] cont = readResponse(in);
            assertThat(cont[0]).startsWith("HTTP/1.1 100");
            out.write(body.getBytes(StandardCharsets.UTF_8));
            String[] r = readResponse(in);
            assertThat(r[0]).startsWith("HTTP/1.1 200");
            assertThat(r[1]).contains("\"chat.completion\"");
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void garbage_isA400_notAHang(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            s.getOutputStream().write("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            String[] r = readResponse(s.getInputStream());
            assertThat(r[0]).startsWith("HTTP/1.1 400");
            assertThat(r[1]).contains("\"type\":\"invalid_request_error\"").contains("\"code\":\"invalid_request\"");
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void connectionClose_isHonoured(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            assertThat(readResponse(in)[0]).startsWith("HTTP/1.1 200");
            assertThat(in.read()).isEqualTo(-1); // closed by the server
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void aSilentClient_isHungUpOn_afterTheIdleTimeout(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            assertThat(readResponse(in)[0]).startsWith("HTTP/1.1 200");
            assertThat(in.read()).isEqualTo(-1); // then nothing more is said: closed within the 20 s read timeout
        }
    }

    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void aHugeHeader_is431_andTheNextConnectionIsServed(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            s.getOutputStream().write(("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(64 * 1024) + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            String[] r = readResponse(s.getInputStream());
            assertThat(r[0]).startsWith("HTTP/1.1 431");
            assertThat(r[1]).contains("\"code\":\"headers_too_large\"");
        }
        try (Socket s = connect(front)) {
            s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            assertThat(readResponse(s.getInputStream())[0]).startsWith("HTTP/1.1 200");
        }
    }

    /**
     * Slowloris: a client that sends its head a byte at a time, never silent for the idle timeout (2 s here), is hung up
     * on once the request has taken the deadline (the idle timeout, here) since its first byte, while it is still
     * sending: its writes fail; left alone, it would send for 60 s.
     */
    @ParameterizedTest(name = "front: {0}")
    @ValueSource(booleans = {true, false})
    void aClientTricklingItsRequest_isHungUpOnAtTheDeadline(boolean front) throws Exception {
        try (Socket s = connect(front)) {
            java.io.OutputStream out = s.getOutputStream();
            out.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.UTF_8));
            java.util.concurrent.CompletableFuture<String> trickle = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    for (int i = 0; i < 300; i++) { // 60 s of one header byte every 200 ms
                        out.write('a');
                        out.flush();
                        Thread.sleep(200); // the attack's pace, not an ordering: the test waits on the socket
                    }
                    return "sent it all";
                } catch (IOException e) {
                    return "cut off";
                } catch (InterruptedException e) {
                    return "interrupted";
                }
            });
            assertThat(s.getInputStream().read()).isEqualTo(-1); // closed within the 20 s read timeout
            assertThat(trickle.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("cut off");
        }
    }
}

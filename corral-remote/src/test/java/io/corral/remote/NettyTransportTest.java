package io.corral.remote;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one HTTP client against a real socket server that answers with scripted bytes. */
class NettyTransportTest {

    /**
     * Answers each request with {@code script.apply(n)} (n counts all requests): null hangs up without an
     * answer, {@code |PAUSE|} waits 300 ms between writes, a trailing {@code |CLOSE|} hangs up after it.
     */
    static final class Scripted implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger connections = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();

        Scripted(Function<Integer, String> script) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> serve(s, script));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private void serve(Socket s, Function<Integer, String> script) {
            try (s) {
                InputStream in = s.getInputStream();
                while (true) {
                    String head = readHead(in);
                    if (head == null) {
                        return;
                    }
                    int length = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                            .mapToInt(l -> Integer.parseInt(l.substring(15).trim())).findFirst().orElse(0);
                    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
                    requests.add(head + body);
                    String answer = script.apply(requests.size());
                    if (answer == null) {
                        return;
                    }
                    boolean hangUp = answer.endsWith("|CLOSE|");
                    answer = answer.replace("|CLOSE|", "");
                    for (String part : answer.split("\\|PAUSE\\|")) { // a pause between writes
                        s.getOutputStream().write(part.getBytes(StandardCharsets.UTF_8));
                        s.getOutputStream().flush();
                        if (answer.contains("|PAUSE|")) {
                            Thread.sleep(300);
                        }
                    }
                    if (hangUp) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException ignored) {
                // the client went away
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                if (b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    return b.toString(StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + server.getLocalPort() + path);
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    final NettyTransport transport = new NettyTransport(new Upstreams(EventLoops.shared()));
    Scripted host;

    @AfterEach
    void stop() throws IOException {
        if (host != null) {
            host.close();
        }
    }

    Transport.Response post(String path, String body, Duration response, Duration idle) throws IOException {
        return transport.send(new Transport.Request("POST", host.uri(path), "Bearer k", body.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(1), response, idle));
    }

    static String text(Transport.Response r) throws IOException {
        try (InputStream in = r.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static final String JSON_OK = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

    @Test
    void fixedLengthAnswers_reuseOneConnection_andTheRequestIsWrittenWhole() throws IOException {
        host = new Scripted(n -> JSON_OK);
        for (int i = 0; i < 3; i++) {
            Transport.Response r = post("/v1/chat/completions", "{\"model\":\"m\"}", Duration.ofSeconds(1), Duration.ofSeconds(1));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.contentType()).isEqualTo("application/json");
            assertThat(text(r)).isEqualTo("{\"ok\":true}");
        }
        assertThat(host.connections.get()).isEqualTo(1);
        assertThat(host.requests.getFirst()).startsWith("POST /v1/chat/completions HTTP/1.1\r\n")
                .contains("Authorization: Bearer k\r\n", "Content-Length: 13\r\n").endsWith("\r\n\r\n{\"model\":\"m\"}");
    }

    @Test
    void chunkedBodies_comeChunkByChunk_withExtensionsAndTrailers() throws IOException {
        host = new Scripted(n -> "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "6\r\ndata: \r\n" + "|PAUSE|" + "5;ext=1\r\nhello\r\n" + "0\r\nX-Trailer: t\r\n\r\n");
        Transport.Response r = post("/s", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1));
        byte[] buf = new byte[100];
        try (InputStream in = r.body()) {
            assertThat(new String(buf, 0, in.read(buf), StandardCharsets.UTF_8)).isEqualTo("data: "); // before the pause
            assertThat(new String(buf, 0, in.read(buf), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(in.read(buf)).isEqualTo(-1);
        }
        assertThat(text(post("/s", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("data: hello");
        assertThat(host.connections.get()).isEqualTo(1);
    }

    @Test
    void aBodyThatLastsUntilClose_andConnectionClose_areNotReused() throws IOException {
        host = new Scripted(n -> switch (n) {
            case 1 -> "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi|CLOSE|";
            case 2 -> "HTTP/1.0 200 OK\r\n\r\nuntil the end|CLOSE|";
            default -> JSON_OK;
        });
        assertThat(text(post("/a", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("hi");
        assertThat(text(post("/a", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("until the end");
        assertThat(text(post("/a", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("{\"ok\":true}");
        assertThat(host.connections.get()).isEqualTo(3);
    }

    @Test
    void aPooledConnectionTheHostClosed_isReplaced_once() throws IOException {
        host = new Scripted(n -> n == 1 ? JSON_OK + "|CLOSE|" : JSON_OK); // the first connection is closed after its answer
        assertThat(text(post("/a", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("{\"ok\":true}");
        sleep(100);
        assertThat(text(post("/a", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1)))).isEqualTo("{\"ok\":true}");
        assertThat(host.connections.get()).isEqualTo(2);
    }

    @Test
    void failures_areConnectAndTimeoutErrors() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort(); // closed at once, with nobody accepting: connections are refused
        }
        assertThatThrownBy(() -> transport.send(new Transport.Request("GET", URI.create("http://127.0.0.1:" + port + "/"),
                null, null, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1))))
                .isInstanceOf(ConnectException.class);
        host = new Scripted(n -> n == 1 ? "|PAUSE|" + JSON_OK
                : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n|PAUSE|0\r\n\r\n");
        assertThatThrownBy(() -> post("/slow", "{}", Duration.ofMillis(100), Duration.ofSeconds(1)))
                .isInstanceOf(SocketTimeoutException.class);
        Transport.Response r = post("/silent", "{}", Duration.ofSeconds(1), Duration.ofMillis(100));
        byte[] buf = new byte[10];
        assertThat(r.body().read(buf)).isEqualTo(2);
        assertThatThrownBy(() -> r.body().read(buf)).isInstanceOf(SocketTimeoutException.class);
        r.body().close();
    }

    @Test
    void aCutInTheMiddleOfAChunk_isAnError() throws IOException {
        host = new Scripted(n -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\nabc");
        Transport.Response r = post("/cut", "{}", Duration.ofSeconds(1), Duration.ofSeconds(1));
        host.close();
        assertThatThrownBy(() -> r.body().readAllBytes()).isInstanceOf(IOException.class);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}

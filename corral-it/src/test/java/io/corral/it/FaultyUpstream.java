package io.corral.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback that behaves like a misbehaving engine: it answers {@code /v1/models}
 * and {@code /health}, and answers chat requests according to {@link #mode}.
 */
final class FaultyUpstream implements AutoCloseable {

    enum Mode { OK, STATUS_500, STATUS_429, STALL, CUT_MIDWAY, MALFORMED, QUIRKY, SLOW, FLOOD }

    final HttpServer server;
    volatile Mode mode = Mode.OK;
    final AtomicInteger chats = new AtomicInteger();
    /** The body of the last chat request. */
    volatile String lastBody;
    /** SLOW streams whose reader hung up before the end. */
    final AtomicInteger abandoned = new AtomicInteger();
    /** FLOOD: 20,000 frames of 1 KB as fast as they are taken; completes with how many went out before a hang-up. */
    volatile java.util.concurrent.CompletableFuture<Integer> flooded = new java.util.concurrent.CompletableFuture<>();

    FaultyUpstream() throws IOException {
        this("faulty-model");
    }

    /** A host that lists {@code model} (the same id as another host's makes it a second runner). */
    FaultyUpstream(String model) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/models", ex -> send(ex, 200, "application/json",
                "{\"object\":\"list\",\"data\":[{\"id\":\"" + model + "\",\"object\":\"model\",\"meta\":{\"n_ctx_train\":4096}}]}"));
        server.createContext("/health", ex -> send(ex, 200, "application/json", "{\"status\":\"ok\"}"));
        server.createContext("/v1/chat/completions", this::chat);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    private void chat(HttpExchange ex) throws IOException {
        chats.incrementAndGet();
        lastBody = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        switch (mode) {
            case STATUS_500 -> send(ex, 500, "application/json", "{\"error\":{\"message\":\"boom\"}}");
            case STATUS_429 -> send(ex, 429, "application/json", "{\"error\":{\"message\":\"slow down\"}}");
            case STALL -> sleep(5000);
            case OK -> sse(ex, List.of(delta("Hello"), delta(" world"), finish("stop"), usage(3, 2)), true);
            case CUT_MIDWAY -> sse(ex, List.of(delta("Hello"), delta(" wor")), false);
            case SLOW -> slow(ex);
            case FLOOD -> flood(ex);
            case MALFORMED -> sse(ex, List.of(delta("Hello"), "{not json"), true);
            case QUIRKY -> {
                // comments, empty tool_calls, reasoning_content, extra fields, no [DONE]
                ex.getResponseHeaders().add("Content-Type", "text/event-stream");
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    write(out, ": keep-alive\n\n");
                    write(out, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}}]}\n\n");
                    write(out, "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"thinking\"}}],\"x_extra\":1}\n\n");
                    write(out, "event: message\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n");
                    write(out, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
                }
            }
        }
    }

    /** Twenty words, 100 ms apart. */
    private void slow(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < 20; i++) {
                write(out, "data: " + delta("w" + i + " ") + "\n\n");
                sleep(100);
            }
            write(out, "data: " + finish("stop") + "\n\ndata: [DONE]\n\n");
        } catch (IOException e) {
            abandoned.incrementAndGet();
        }
    }

    private void flood(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        int sent = 0;
        try (OutputStream out = ex.getResponseBody()) {
            String frame = "data: " + delta("x".repeat(1000)) + "\n\n";
            for (; sent < 20_000; sent++) {
                write(out, frame);
            }
            write(out, "data: " + finish("stop") + "\n\ndata: [DONE]\n\n");
            flooded.complete(sent);
        } catch (IOException e) {
            flooded.complete(sent);
        }
    }

    static String delta(String text) {
        return "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}";
    }

    static String finish(String reason) {
        return "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}]}";
    }

    static String usage(int prompt, int completion) {
        return "{\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + "}}";
    }

    private static void sse(HttpExchange ex, List<String> frames, boolean done) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        for (String f : frames) {
            write(out, "data: " + f + "\n\n");
        }
        if (done) {
            write(out, "data: [DONE]\n\n");
            out.close();
        } else {
            ex.getHttpContext().getServer(); // keep the exchange referenced
            ex.close(); // cut: the connection ends with no finish and no [DONE]
        }
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

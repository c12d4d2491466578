package io.corral.bench;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What Helidon SE itself costs, as the floor under Corral's gateway figures (bench/gateway.sh runs it
 * beside Corral): {@code fixed} answers every chat request with a canned body (a stream when asked);
 * {@code relay} passes each request to the upstream over pooled keep-alive sockets and its answer back,
 * parsing nothing but the status line and headers. No routing, no errors handled, no logs.
 *
 *   HelidonFloor fixed|relay PORT [UPSTREAM_PORT]
 */
public final class HelidonFloor {

    private static final byte[] ANSWER = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"mock\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello! This "
            + "is a canned reply.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":20,"
            + "\"total_tokens\":32}}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] STREAM = ("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
            + "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n").getBytes(StandardCharsets.UTF_8);

    private record Upstream(Socket socket, InputStream in, OutputStream out) {
    }

    private static final ConcurrentLinkedQueue<Upstream> POOL = new ConcurrentLinkedQueue<>();
    private static int upstreamPort;

    public static void main(String[] args) throws Exception {
        boolean relay = args[0].equals("relay");
        upstreamPort = args.length > 2 ? Integer.parseInt(args[2]) : 18000;
        WebServer.builder().host("127.0.0.1").port(Integer.parseInt(args[1]))
                .connectionOptions(o -> o.tcpNoDelay(true))
                .routing(r -> r.post("/v1/chat/completions", relay ? HelidonFloor::relay : HelidonFloor::fixed))
                .build().start();
        Thread.currentThread().join();
    }

    private static void fixed(ServerRequest req, ServerResponse res) throws IOException {
        byte[] body = req.content().inputStream().readAllBytes();
        boolean stream = new String(body, StandardCharsets.UTF_8).contains("\"stream\":true");
        res.header(HeaderNames.CONTENT_TYPE, stream ? "text/event-stream" : "application/json");
        res.send(stream ? STREAM : ANSWER);
    }

    private static void relay(ServerRequest req, ServerResponse res) throws IOException {
        byte[] body = req.content().inputStream().readAllBytes();
        Upstream u = POOL.poll();
        if (u == null) {
            Socket s = new Socket("127.0.0.1", upstreamPort);
            s.setTcpNoDelay(true);
            u = new Upstream(s, new java.io.BufferedInputStream(s.getInputStream(), 16384), s.getOutputStream());
        }
        byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        u.out().write(request);
        u.out().flush();
        line(u.in()); // status
        int length = -1;
        String type = "application/json";
        for (String h; !(h = line(u.in())).isEmpty(); ) {
            int colon = h.indexOf(':');
            String name = h.substring(0, colon).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = Integer.parseInt(h.substring(colon + 1).trim());
            } else if (name.equalsIgnoreCase("Content-Type")) {
                type = h.substring(colon + 1).trim();
            }
        }
        res.header(HeaderNames.CONTENT_TYPE, type);
        if (length >= 0) {
            byte[] answer = u.in().readNBytes(length);
            POOL.add(u);
            res.send(answer);
            return;
        }
        try (OutputStream out = res.outputStream()) { // chunked: pass each chunk on as it comes
            for (int n; (n = Integer.parseInt(line(u.in()), 16)) > 0; ) {
                out.write(u.in().readNBytes(n));
                out.flush();
                line(u.in());
            }
            line(u.in());
        }
        POOL.add(u);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new EOFException();
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }
}

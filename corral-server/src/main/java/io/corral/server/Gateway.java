package io.corral.server;

import io.corral.routing.Router;
import io.corral.spi.Capability;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway path: a request for a model whose runners all speak the OpenAI wire is not decoded but
 * forwarded as its bytes, on the event loop that read it ({@link Exchange}), with the router's choice,
 * fallback and breaker. Nothing is read from it but what routing needs ({@link WireScan}). Everything else,
 * and every request while the content log is on, is left to the decoding path behind the front.
 */
final class Gateway {

    static final AsciiString REQUEST_ID = AsciiString.cached("X-Request-Id");
    static final AsciiString RUNNER = AsciiString.cached("X-Corral-Runner");
    static final AsciiString ATTEMPTS = AsciiString.cached("X-Corral-Attempts");

    /** The paths it forwards, with the path under the host's base URL. */
    private static final Map<String, String> PATHS = Map.of(
            "/v1/chat/completions", "/chat/completions",
            "/v1/completions", "/completions");

    private final ModelDirectory models;
    private final ApiKeys keys;
    private final boolean off;
    private final Upstreams upstreams;
    private final Set<Exchange> running = ConcurrentHashMap.newKeySet();
    private volatile boolean shuttingDown;

    Gateway(ModelDirectory models, ApiKeys keys, boolean logContent, Upstreams upstreams) {
        this.models = models;
        this.keys = keys;
        this.off = logContent;
        this.upstreams = upstreams;
    }

    /** Whether a request to {@code path} might be forwarded (its body is then read first). */
    boolean mayForward(String path) {
        return !off && !shuttingDown && PATHS.containsKey(path);
    }

    /**
     * Starts forwarding the request when its model can be, or refuses one that no path could serve (bad
     * JSON, no model); false when it must be served by decoding it (a local runner among the model's, an
     * unknown model, a bad key: the decoding path answers those, the same way for both).
     */
    boolean forward(FrontConnection client, HttpRequest head, String path, byte[] body) {
        if (shuttingDown || !keys.allow(head.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            return false;
        }
        WireScan scan;
        Router router;
        try {
            scan = WireScan.of(body);
        } catch (ApiException e) { // a request nobody could serve: the same 400 the decoding path gives
            String id = Http.newId();
            client.write(errorResponse(Errors.map(e), id));
            client.flush();
            Http.log(id, "POST", path, e.status, null, null, System.nanoTime());
            client.answered();
            return true;
        }
        try {
            if (!(models.get(scan.model()).provider() instanceof Router r) || !r.forwardable()) {
                return false;
            }
            router = r;
        } catch (RuntimeException e) {
            return false;
        }
        boolean chat = path.equals("/v1/chat/completions");
        Capability needs = !chat ? Capability.COMPLETION : scan.images() ? Capability.VISION : Capability.CHAT;
        Exchange x = new Exchange(this, client, Http.newId(), path, PATHS.get(path), body, scan);
        running.add(x);
        client.begin(x);
        x.start(router, needs);
        return true;
    }

    /** An OpenAI-style error answer of our own. */
    static FullHttpResponse errorResponse(Errors.Mapped m, String requestId) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(m.status()),
                Unpooled.wrappedBuffer(Json.bytes(Errors.body(m))));
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
        h.set(REQUEST_ID, requestId);
        if (m.status() == 429) {
            h.set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        return res;
    }

    ModelDirectory models() {
        return models;
    }

    Upstreams upstreams() {
        return upstreams;
    }

    void done(Exchange x) {
        running.remove(x);
    }

    /** Ends every forwarded request still running (server shutdown); new ones go to the decoding path, which refuses them. */
    void shutdown() {
        shuttingDown = true;
        for (Exchange x : running) {
            x.loop().execute(x::shutdown);
        }
    }

    /** Whether a forwarded request is still running. */
    boolean busy() {
        return !running.isEmpty();
    }
}

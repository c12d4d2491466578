package io.corral.server;

import io.corral.api.InferenceTimeoutException;
import io.corral.api.UnavailableException;
import io.corral.routing.Router;
import io.corral.spi.Capability;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway path: a request for a model whose runners all speak the OpenAI wire is forwarded as its
 * bytes, and the host's answer comes back as its bytes (JSON whole, SSE frame by frame as they arrive),
 * with the router's choice, fallback and breaker. Nothing is decoded but the few fields routing needs
 * ({@link WireScan}). A stream that breaks off ends with an error event and {@code [DONE]}, as on the
 * decoding path, and so does one that stops with neither a finish reason nor {@code [DONE]} ({@link StreamEnd});
 * a missing {@code [DONE]} after a finish reason is added.
 */
final class Relay {

    private final ModelDirectory models;
    private final Http http;
    private final Set<Router.Forwarded> running = ConcurrentHashMap.newKeySet();
    private volatile boolean shuttingDown;

    Relay(ModelDirectory models, Http http) {
        this.models = models;
        this.http = http;
    }

    /** What a forwarded stream that broke off after its first bytes is reported as. */
    private static RuntimeException brokeOff(Router.Forwarded f, IOException e) {
        return e instanceof SocketTimeoutException
                ? new InferenceTimeoutException("upstream " + f.runner() + " went silent: " + e.getMessage())
                : new UnavailableException("upstream " + f.runner() + " cut the stream: " + e.getMessage(), e);
    }

    /** Ends every forwarded stream with an error event (server shutdown). */
    void shutdown() {
        shuttingDown = true;
        running.forEach(Router.Forwarded::close);
    }

    /**
     * Forwards the request when its model can be; returns false when it must be served by decoding it
     * (a local runner among the model's, or the content log is on).
     */
    boolean forward(ServerRequest req, ServerResponse res, String path, byte[] body, boolean chat) throws Exception {
        if (http.logsContent()) {
            return false;
        }
        WireScan scan = WireScan.of(body);
        if (!(models.get(scan.model()).provider() instanceof Router router) || !router.forwardable()) {
            return false;
        }
        Capability needs = !chat ? Capability.COMPLETION : scan.images() ? Capability.VISION : Capability.CHAT;
        try (AutoCloseable admitted = models.admit(scan.model());
             Router.Forwarded f = router.forward(needs, path,
                     m -> m.equals(scan.model()) ? body : WireScan.withModel(body, m))) {
            Http.servedBy(res, f.runner(), f.attempts());
            if (f.response().isStream()) {
                running.add(f);
                try {
                    stream(req, res, scan.model(), f);
                } finally {
                    running.remove(f);
                }
            } else {
                byte[] answer = f.response().body().readAllBytes();
                http.log(req, 200, scan.model());
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(answer);
            }
        }
        return true;
    }

    private void stream(ServerRequest req, ServerResponse res, String model, Router.Forwarded f) throws IOException {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            Sse sse = new Sse(out);
            InputStream in = f.response().body();
            byte[] buf = new byte[16 * 1024];
            StreamEnd end = new StreamEnd();
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    sse.raw(buf, n);
                    end.see(buf, n);
                }
                if (!end.finished() && !end.done()) {
                    throw new java.io.EOFException("it ended without a finish reason");
                }
            } catch (Sse.ClientGone gone) {
                f.close(); // the client left: hang up on the host, which stops generating
                http.log(req, 499, model);
                return;
            } catch (IOException e) {
                Errors.Mapped m = shuttingDown ? Errors.SHUTTING_DOWN : Errors.map(brokeOff(f, e));
                if (!shuttingDown) {
                    f.failed();
                }
                sse.fail(m);
                http.log(req, m.status(), model);
                return;
            }
            if (!end.done()) {
                sse.done(); // the host left it out: clients wait for it
            }
            http.log(req, 200, model);
        }
    }
}

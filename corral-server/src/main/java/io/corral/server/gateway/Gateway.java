package io.corral.server.gateway;

import io.corral.remote.Upstreams;
import io.corral.remote.OpenAiWire;
import io.corral.routing.Router;
import io.corral.server.http.ApiException;
import io.corral.server.http.Connection;
import io.corral.server.http.Errors;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Pipeline;
import io.corral.server.http.Request;
import io.corral.spi.Capability;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The gateway path: a request for a model whose runners all speak the OpenAI wire is not decoded but
 * forwarded as its bytes, on the event loop that read it ({@link Exchange}), with the router's choice,
 * fallback and breaker. Nothing is read from it but what routing needs ({@link WireScan}). Everything else
 * (a model with a local runner, a model whose content a guardrail must see) is declined, and the pipeline
 * decodes it. With the content log on there is no gateway: every request is decoded.
 */
public final class Gateway implements Pipeline.Forwarder {

    /** The paths it forwards, with the path under the host's base URL. */
    private static final Map<String, String> PATHS = Map.of(
            "/v1/chat/completions", "/chat/completions",
            "/v1/completions", "/completions");

    private final ModelDirectory models;
    private final Pipeline pipeline;
    private final Predicate<String> decodeModel;
    private final Upstreams upstreams;
    private final Set<Exchange> running = ConcurrentHashMap.newKeySet();
    private volatile boolean shuttingDown;

    /**
     * @param decodeModel the models whose requests must be decoded all the same (a guardrail reads them)
     */
    public Gateway(ModelDirectory models, Pipeline pipeline, Predicate<String> decodeModel, Upstreams upstreams) {
        this.models = models;
        this.pipeline = pipeline;
        this.decodeModel = decodeModel;
        this.upstreams = upstreams;
    }

    /**
     * Starts forwarding the request when its model can be, or refuses one that no path could serve (bad
     * JSON, no model); false when it must be decoded (a local runner among the model's, a guardrail, an
     * unknown model: the decoding path answers those).
     */
    @Override
    public boolean forward(Connection client, Request req) {
        String upstreamPath = PATHS.get(req.path());
        if (shuttingDown || upstreamPath == null) {
            return false;
        }
        WireScan scan;
        try {
            scan = WireScan.of(req.body(), this::forwardable);
        } catch (ApiException e) { // a request nobody could serve: the same 400 the decoding path gives
            client.write(Errors.response(Errors.map(e), req.id()));
            client.flush();
            pipeline.finish(client, req, e.status());
            return true;
        }
        // (an image's URL is checked where the request is decoded)
        if (scan == null || scan.guardrails() || scan.store() || scan.images() || !(provider(scan.model()) instanceof Router router)) {
            return false;
        }
        req.model(scan.model());
        scan.metadata().forEach((k, v) -> req.span().set(k, v)); // the client finds its trace by them, as when decoded
        boolean chat = req.path().equals("/v1/chat/completions");
        Capability needs = chat ? Capability.CHAT : Capability.COMPLETION;
        Exchange x = new Exchange(this, client, req, upstreamPath, scan);
        running.add(x);
        client.begin(x);
        x.start(router, needs);
        return true;
    }

    /** Whether requests for {@code model} can go as bytes: a router's, all of whose runners can, and no guardrail's. */
    private boolean forwardable(String model) {
        return provider(model) instanceof Router r && forwardable(r) && !decodeModel.test(model);
    }

    /** The model's provider, or null for a model not known (the decoding path answers it). */
    private Object provider(String model) {
        try {
            return models.get(model).provider();
        } catch (RuntimeException unknown) {
            return null;
        }
    }

    /** Whether every runner of {@code router} speaks the OpenAI wire, so its requests can go as bytes. */
    public static boolean forwardable(Router router) {
        for (Router.Runner r : router.runners()) {
            if (!(r.provider() instanceof OpenAiWire)) {
                return false;
            }
        }
        return true;
    }

    ModelDirectory models() {
        return models;
    }

    Upstreams upstreams() {
        return upstreams;
    }

    /** The exchange has answered with {@code status}: the pipeline logs it and the connection moves on. */
    void done(Exchange x, Connection client, Request req, int status) {
        running.remove(x);
        pipeline.finish(client, req, status);
    }

    /** Ends every forwarded request still running (server shutdown); new ones go to the decoding path, which refuses them. */
    public void shutdown() {
        shuttingDown = true;
        for (Exchange x : running) {
            x.loop().execute(x::shutdown);
        }
    }
}

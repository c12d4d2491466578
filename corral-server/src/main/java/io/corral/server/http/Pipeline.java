package io.corral.server.http;

import io.corral.spi.Span;
import io.corral.spi.Spans;

import java.util.List;
import java.util.concurrent.ThreadFactory;

/**
 * The one path every request takes, forwarded or decoded, in this order: request id, client address,
 * API key, route (404/405), then the handler: the {@link Forwarder} (the gateway, on the event loop that
 * read the request) or a decoding {@link Handler} on a virtual thread, which parses the body, admits the
 * request to its model and runs the guardrails; at the end the access log and every
 * {@link RequestListener} (metrics, traces). Nothing that holds an engine slot runs before the key is
 * checked and the route found, so an unauthenticated or unroutable request never takes one.
 */
public final class Pipeline {

    /** Starts a request's span (from its {@code traceparent} and {@code baggage}, when it has them). */
    @FunctionalInterface
    public interface Tracer {
        Tracer NONE = r -> Span.NOOP;

        Span start(Request request);
    }

    /** Forwards a request as its bytes, or declines (then it is decoded). Called on the event loop. */
    public interface Forwarder {
        boolean forward(Connection client, Request request);
    }

    private static final System.Logger LOG = System.getLogger("corral.server");

    private final Routes routes;
    private final ApiKeys keys;
    private final TrustedProxies proxies;
    private final AccessLog accessLog;
    private final List<RequestListener> listeners;
    private final Tracer tracer;
    private final ThreadFactory threads = Thread.ofVirtual().name("corral-request-", 0).factory();
    private volatile Forwarder forwarder;
    private volatile RateLimits limits;
    private volatile Budgets budgets;
    private volatile boolean draining;

    public Pipeline(Routes routes, ApiKeys keys, TrustedProxies proxies, AccessLog accessLog, List<RequestListener> listeners,
                    Tracer tracer) {
        this.tracer = tracer;
        this.routes = routes;
        this.keys = keys;
        this.proxies = proxies;
        this.accessLog = accessLog;
        this.listeners = List.copyOf(listeners);
    }

    public void forwarder(Forwarder f) {
        this.forwarder = f;
    }

    /** From now on, requests are refused with 503 {@code server_shutting_down} (those running go on). */
    public void drain() {
        draining = true;
    }

    /** Per key limits on requests and tokens a minute, checked after the key and the route (null: none). */
    public void rateLimits(RateLimits l) {
        this.limits = l != null && l.any() ? l : null;
    }

    /** Per key budgets of requests and tokens a period, checked after the rate limits (null: none). */
    public void budgets(Budgets b) {
        this.budgets = b != null && b.any() ? b : null;
    }

    /** Takes a request that has been read whole, on its connection's event loop. */
    void accept(Connection c, Request req) {
        String peer = c.peerAddress();
        req.stamp(Ids.next(), proxies.none() ? peer : proxies.client(peer, req.header("X-Forwarded-For")));
        Routes.Match m = routes.match(req.method(), req.path());
        if (m.route() != null) {
            req.matched(m.route().pattern(), m.params());
        }
        try {
            req.span(tracer.start(req));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "tracing failed", e); // a request is served untraced, not refused
        }
        for (RequestListener l : listeners) {
            guarded(l, () -> l.started(req));
        }
        try {
            if (draining) {
                throw ApiException.shuttingDown();
            }
            // health probes and the playground's own files are open to all: no key, no rate limit
            boolean open = req.path().equals("/v1/health") || req.path().equals("/health")
                    || io.corral.server.playground.PlaygroundApi.isPage(req.method(), req.path());
            if (!open) {
                req.tenant(keys.check(req.header("Authorization")));
                if (req.tenant() != null) {
                    req.span().set(io.corral.telemetry.TraceStore.OWNER, req.tenant()); // whose trace it is
                }
            }
            if (m.route() == null) {
                if (!m.allowed().isEmpty()) {
                    throw ApiException.methodNotAllowed(req.method(), req.path(), m.allowed());
                }
                throw ApiException.notFound("no route " + req.method() + " " + req.path());
            }
            if (ApiKeys.adminRoute(req.method(), req.path())) {
                keys.checkAdmin(req.tenant(), req.method(), req.path());
            }
            RateLimits l = limits;
            if (l != null && !open) {
                req.rateLimitHeaders(l.admit(req.tenant()));
            }
            Budgets b = budgets;
            if (b != null && !open) {
                b.admit(req.tenant());
            }
        } catch (ApiException e) {
            refuse(c, req, e);
            return;
        }
        Forwarder f = forwarder;
        if (m.route().forwardable() && f != null && f.forward(c, req)) {
            return; // the gateway answers and calls finish
        }
        Handler h = m.route().handler();
        threads.newThread(() -> decode(c, req, h)).start();
    }

    private void refuse(Connection c, Request req, ApiException e) {
        Response res = new Response(c, req.id());
        if (e.allow != null) {
            res.header("Allow", e.allow);
        }
        e.headers.forEach(res::header);
        Errors.Mapped mapped = Errors.map(e);
        res.json(mapped.status(), Errors.body(mapped, req.path()));
        finish(c, req, mapped.status());
    }

    private void decode(Connection c, Request req, Handler h) {
        Response res = new Response(c, req.id());
        req.rateLimitHeaders().forEach(res::header);
        int status;
        try {
            Spans.within(req.span(), () -> {
                h.handle(req, res);
                return null;
            });
            status = res.status();
        } catch (Throwable t) {
            Errors.Mapped m = Errors.map(t);
            if (m.status() >= 500) {
                LOG.log(System.Logger.Level.WARNING, "request " + req.id() + " failed", t);
            }
            if (!res.sent()) {
                if (m.status() == 429) {
                    res.header("Retry-After", "1");
                }
                res.json(m.status(), Errors.body(m, req.path()));
            } else if (m.status() != 499) {
                res.failStream(m);
            }
            status = m.status();
            if (status >= 500) {
                req.span().fail(t);
            }
        }
        res.end();
        finish(c, req, status);
    }

    /** The request is answered: access log, listeners, and the connection may take its next request. */
    public void finish(Connection c, Request req, int status) {
        RateLimits rate = limits;
        if (rate != null && req.promptTokens() >= 0) {
            rate.record(req.tenant(), req.promptTokens() + Math.max(0, req.completionTokens()));
        }
        Budgets b = budgets;
        if (b != null && req.promptTokens() >= 0) {
            b.record(req.tenant(), req.promptTokens() + Math.max(0, req.completionTokens()));
        }
        accessLog.log(req, status);
        Span span = req.span();
        span.set("http.response.status_code", status);
        if (req.model() != null) {
            span.set("gen_ai.request.model", req.model());
        }
        if (req.promptTokens() >= 0) {
            span.set("gen_ai.usage.input_tokens", req.promptTokens()).set("gen_ai.usage.output_tokens", req.completionTokens());
        }
        span.end();
        for (RequestListener l : listeners) {
            guarded(l, () -> l.finished(req, status));
        }
        c.answered();
    }

    /** A listener must never break a request: what it throws is logged. */
    private static void guarded(RequestListener l, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "request listener " + l.getClass().getName() + " failed", e);
        }
    }
}

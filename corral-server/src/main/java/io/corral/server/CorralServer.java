package io.corral.server;

import io.corral.engines.EngineRegistry;
import io.corral.routing.Router;
import io.corral.spi.InferenceProvider;
import io.corral.spi.OpenAiWire;
import io.corral.spi.ModelInfo;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Corral's HTTP server: the OpenAI and Llama Stack APIs over a set of providers, decoded by Helidon SE
 * WebServer (a virtual thread per request). When a remote OpenAI-wire engine is configured, the public
 * port is the {@link Front} instead, an event loop that forwards requests for remote-only models itself
 * ({@link Gateway}) and passes the rest to Helidon on loopback; with local engines only, Helidon listens
 * on the port itself and no request pays for the extra hop. Owns the providers: {@link #close()} stops the
 * server, ends running streams with an error event, then closes the engines.
 */
public final class CorralServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("corral.server");

    private final ServerConfig config;
    private final ModelDirectory models;
    private final InferenceApi inference;
    private final WebServer server;
    private final ApiKeys keys;
    private final Gateway gateway;     // these three only when a remote engine is configured
    private final Front front;
    private final EventLoops loops;
    private final AtomicBoolean closed = new AtomicBoolean();

    private final EngineRegistry registry;

    private CorralServer(ServerConfig config, List<InferenceProvider> providers, EngineRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.models = new ModelDirectory(providers, config.maxQueued());
        if (registry != null) {
            models.fallback(registry::resolve);
        }
        Http http = new Http(config.maxBodyBytes(), config.logContent(), config.apiKeys());
        this.keys = new ApiKeys(config.apiKeys());
        this.inference = new InferenceApi(models, http);
        LlamaStackApi llamaStack = new LlamaStackApi(models, registry != null ? registry::providers : models::providers, http);
        EnginesApi engines = registry == null ? null : new EnginesApi(registry, models, http);
        boolean fronted = !config.logContent()
                && (registry != null ? registry.providers() : providers).stream().anyMatch(CorralServer::remote);
        this.server = WebServer.builder()
                .host(fronted ? "127.0.0.1" : config.host())
                .port(fronted ? 0 : config.port()) // behind the front, or the public port itself
                .shutdownHook(false)
                .idleConnectionTimeout(config.idleTimeout())
                .idleConnectionPeriod(min(config.idleTimeout(), Duration.ofMinutes(2)))
                // SSE frames are small writes: without this, Nagle and delayed ACKs hold each one ~40 ms
                .connectionOptions(o -> o.tcpNoDelay(true))
                .directHandlers(d -> {
                    for (DirectHandler.EventType t : DirectHandler.EventType.values()) {
                        d.addHandler(t, CorralServer::refuse);
                    }
                })
                .routing(r -> routing(r, http, llamaStack, engines))
                .build();
        this.loops = fronted ? EventLoops.start() : null;
        this.gateway = fronted ? new Gateway(models, keys, config.logContent(), new Upstreams(loops)) : null;
        this.server.start();
        this.front = fronted ? startFront() : null;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    /** Whether requests for {@code p}'s models could be forwarded as they are (it speaks the OpenAI wire). */
    private static boolean remote(InferenceProvider p) {
        return p instanceof OpenAiWire || p instanceof Router r && r.forwardable();
    }

    private Front startFront() {
        try {
            return Front.start(config.host(), config.port(), new InetSocketAddress("127.0.0.1", server.port()), gateway,
                    loops, config.maxBodyBytes(), config.idleTimeout());
        } catch (RuntimeException e) {
            server.stop();
            loops.close();
            throw e;
        }
    }

    /** Starts serving {@code providers}; returns once the port is bound. */
    public static CorralServer start(ServerConfig config, List<InferenceProvider> providers) {
        return start(new CorralServer(config, providers, null));
    }

    /** Starts serving the models of {@code registry} (discovered already), with {@code /v1/engines}. */
    public static CorralServer start(ServerConfig config, EngineRegistry registry) {
        return start(new CorralServer(config, registry.routers(), registry));
    }

    private static CorralServer start(CorralServer s) {
        ServerConfig config = s.config;
        LOG.log(System.Logger.Level.INFO, "listening on http://%s:%d, serving %s".formatted(config.host(), s.port(),
                s.models.list().stream().map(ModelInfo::id).collect(Collectors.joining(", "))));
        return s;
    }

    public int port() {
        return front != null ? front.port() : server.port();
    }

    /** Whether the public port is the {@link Front} (a remote engine is configured). */
    boolean fronted() {
        return front != null;
    }

    public String url() {
        return "http://" + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + port();
    }

    private void routing(HttpRouting.Builder r, Http http, LlamaStackApi llamaStack, EnginesApi engines) {
        r.addFilter((chain, req, res) -> {
                    Http.begin(req, res);
                    authorize(req);
                    chain.proceed();
                    if (res.isSent() && req.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                        // Helidon 4 answers "Connection: close" but keeps the socket open (helidon#12324)
                        throw new CloseConnectionException("the client asked to close");
                    }
                })
                .register(inference)
                .register(llamaStack);
        if (engines != null) {
            r.register(engines);
        }
        r.any((req, res) -> {
                    throw ApiException.notFound("no route " + req.prologue().method().text() + " " + req.path().path());
                })
                .error(Throwable.class, (req, res, t) -> fail(http, req, res, t));
    }

    private void authorize(ServerRequest req) {
        String path = req.path().path();
        if (!path.equals("/v1/health") && !path.equals("/health")) {
            keys.check(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null));
        }
    }

    /** What Helidon answers itself, before routing (malformed HTTP, a head too large): our JSON error. */
    private static DirectHandler.TransportResponse refuse(DirectHandler.TransportRequest req, DirectHandler.EventType type,
                                                          Status status, ServerResponseHeaders headers, String message) {
        Errors.Mapped m = Errors.transport(status.code(), message == null || message.isBlank() ? status.reasonPhrase() : message);
        return DirectHandler.TransportResponse.builder().status(status).headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .keepAlive(type.keepAlive())
                .entity(Json.bytes(Errors.body(m))).build();
    }

    private static void fail(Http http, ServerRequest req, ServerResponse res, Throwable t) {
        Errors.Mapped m = Errors.map(t);
        if (m.status() >= 500) {
            LOG.log(System.Logger.Level.WARNING, "request " + Http.requestId(req) + " failed", t);
        }
        if (res.isSent()) {
            return;
        }
        if (m.status() == 429) {
            res.header(HeaderNames.RETRY_AFTER, "1");
        }
        http.log(req, m.status(), null, null);
        http.json(res, Status.create(m.status()), Errors.body(m));
    }

    /** Stops listening, ends running streams with an error event, and closes the engines. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        inference.shutdown();
        if (front != null) {
            gateway.shutdown();
            front.close();
        }
        server.stop();
        if (loops != null) {
            loops.close();
        }
        if (registry != null) {
            registry.close();
        } else {
            for (InferenceProvider p : models.providers()) {
                p.close();
            }
        }
    }
}

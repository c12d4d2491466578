package io.corral.server;

import io.corral.engines.EngineRegistry;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Corral's HTTP server: the OpenAI and Llama Stack APIs over a set of providers. The public port is the
 * {@link Front}, an event loop that forwards requests for remote-only models itself ({@link Gateway}) and
 * passes the rest to Helidon SE WebServer on loopback (a virtual thread per request), where they are
 * decoded. Owns the providers: {@link #close()} stops the server, ends running streams with an error
 * event, then closes the engines.
 */
public final class CorralServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("corral.server");

    private final ServerConfig config;
    private final ModelDirectory models;
    private final InferenceApi inference;
    private final WebServer server;
    private final ApiKeys keys;
    private final Gateway gateway;
    private final Front front;
    private final EventLoops loops;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

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
        this.server = WebServer.builder()
                .host("127.0.0.1")
                .port(0) // behind the front only
                .shutdownHook(false)
                // SSE frames are small writes: without this, Nagle and delayed ACKs hold each one ~40 ms
                .connectionOptions(o -> o.tcpNoDelay(true))
                .routing(r -> routing(r, http, llamaStack, engines))
                .build();
        this.loops = EventLoops.start();
        this.gateway = new Gateway(models, keys, config.logContent(), new Upstreams(loops));
        this.server.start();
        this.front = startFront();
    }

    private Front startFront() {
        try {
            return Front.start(config.host(), config.port(), new InetSocketAddress("127.0.0.1", server.port()), gateway,
                    loops, config.maxBodyBytes());
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
        return front.port();
    }

    public String url() {
        return "http://" + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + port();
    }

    private void routing(HttpRouting.Builder r, Http http, LlamaStackApi llamaStack, EnginesApi engines) {
        r.addFilter((chain, req, res) -> {
                    Http.begin(req, res);
                    authorize(req);
                    chain.proceed();
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
        gateway.shutdown();
        front.close();
        server.stop();
        loops.close();
        if (registry != null) {
            registry.close();
        } else {
            for (InferenceProvider p : models.providers()) {
                p.close();
            }
        }
    }
}

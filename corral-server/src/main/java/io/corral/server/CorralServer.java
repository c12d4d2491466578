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

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Corral's HTTP server: the OpenAI and Llama Stack APIs over a set of providers, on Helidon SE
 * WebServer (a virtual thread per request). Owns the providers: {@link #close()} stops the server,
 * ends running streams with an error event, then closes the engines.
 */
public final class CorralServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("corral.server");

    private final ServerConfig config;
    private final ModelDirectory models;
    private final InferenceApi inference;
    private final WebServer server;

    private final EngineRegistry registry;

    private CorralServer(ServerConfig config, List<InferenceProvider> providers, EngineRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.models = new ModelDirectory(providers, config.maxQueued());
        if (registry != null) {
            models.fallback(registry::resolve);
        }
        Http http = new Http(config.maxBodyBytes(), config.logContent(), config.apiKeys());
        this.inference = new InferenceApi(models, http);
        LlamaStackApi llamaStack = new LlamaStackApi(models, registry != null ? registry::providers : models::providers, http);
        EnginesApi engines = registry == null ? null : new EnginesApi(registry, models, http);
        this.server = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                // SSE frames are small writes: without this, Nagle and delayed ACKs hold each one ~40 ms
                .connectionOptions(o -> o.tcpNoDelay(true))
                .routing(r -> routing(r, http, llamaStack, engines))
                .build();
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
        s.server.start();
        LOG.log(System.Logger.Level.INFO, "listening on http://%s:%d, serving %s".formatted(config.host(), s.port(),
                s.models.list().stream().map(ModelInfo::id).collect(Collectors.joining(", "))));
        return s;
    }

    public int port() {
        return server.port();
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
        if (config.apiKeys().isEmpty() || req.path().path().equals("/v1/health") || req.path().path().equals("/health")) {
            return;
        }
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("missing API key: send Authorization: Bearer <key>");
        }
        byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (String key : config.apiKeys()) { // constant time per key, and every key is tried
            ok |= MessageDigest.isEqual(given, key.getBytes(StandardCharsets.UTF_8));
        }
        if (!ok) {
            throw ApiException.unauthorized("invalid API key");
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
        inference.shutdown();
        server.stop();
        if (registry != null) {
            registry.close();
        } else {
            for (InferenceProvider p : models.providers()) {
                p.close();
            }
        }
    }
}

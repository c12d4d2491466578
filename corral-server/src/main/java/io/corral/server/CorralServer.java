package io.corral.server;

import io.corral.engines.EngineRegistry;
import io.corral.routing.Router;
import io.corral.server.admin.EnginesApi;
import io.corral.server.gateway.Gateway;
import io.corral.server.gateway.Upstreams;
import io.corral.server.http.AccessLog;
import io.corral.server.http.ApiKeys;
import io.corral.server.http.EventLoops;
import io.corral.server.http.HttpServer;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Pipeline;
import io.corral.server.http.RequestListener;
import io.corral.server.http.Routes;
import io.corral.server.http.Streams;
import io.corral.server.http.TrustedProxies;
import io.corral.server.llamastack.LlamaStackApi;
import io.corral.server.openai.OpenAiApi;
import io.corral.server.telemetry.ServerMetrics;
import io.corral.server.telemetry.TelemetryApi;
import io.corral.server.telemetry.TracesApi;
import io.corral.server.telemetry.Tracing;
import io.corral.telemetry.Telemetry;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.OpenAiWire;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Corral's HTTP server: the OpenAI and Llama Stack APIs over a set of providers, on one HTTP stack
 * ({@link HttpServer}, Netty event loops). Every request passes one {@link Pipeline}; a request for a
 * model whose runners all speak the OpenAI wire is forwarded as its bytes on the event loop
 * ({@link Gateway}), every other one is decoded by a handler on a virtual thread. Owns the providers:
 * {@link #close()} stops listening, ends running streams with an error event, then closes the engines.
 */
public final class CorralServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("corral.server");

    private final ServerConfig config;
    private final ModelDirectory models;
    private final Streams streams = new Streams();
    private final EventLoops loops;
    private final HttpServer http;
    private final Gateway gateway; // null when no model can be forwarded
    private final EngineRegistry registry;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CorralServer(ServerConfig config, List<InferenceProvider> providers, EngineRegistry registry,
                         List<RequestListener> listeners, Telemetry telemetry) {
        this.config = config;
        this.registry = registry;
        this.models = new ModelDirectory(providers, config.maxQueued());
        if (registry != null) {
            models.fallback(registry::resolve);
        }
        AccessLog accessLog = new AccessLog(config.logContent(), config.apiKeys());
        Routes routes = new Routes()
                .add(new OpenAiApi(models, accessLog, streams, config.maxInputTokens()))
                .add(new LlamaStackApi(models, registry != null ? registry::providers : models::providers, accessLog, streams));
        if (registry != null) {
            routes.add(new EnginesApi(registry, models));
        }
        ServerMetrics metrics = new ServerMetrics(models, registry);
        routes.add(new TelemetryApi(metrics)).add(new TracesApi(telemetry));
        List<RequestListener> all = new ArrayList<>(listeners);
        all.add(metrics);
        Pipeline pipeline = new Pipeline(routes, new ApiKeys(config.apiKeys()), TrustedProxies.of(config.trustedProxies()),
                accessLog, all, new Tracing(telemetry));
        this.loops = EventLoops.start();
        boolean forwarding = !config.logContent()
                && (registry != null ? registry.providers() : providers).stream().anyMatch(CorralServer::remote);
        this.gateway = forwarding ? new Gateway(models, pipeline, config.logContent(), model -> false, new Upstreams(loops)) : null;
        pipeline.forwarder(gateway);
        try {
            this.http = HttpServer.start(config.host(), config.port(), pipeline, loops, config.maxBodyBytes(), config.idleTimeout());
        } catch (RuntimeException e) {
            loops.close();
            throw e;
        }
    }

    /** Whether requests for {@code p}'s models could be forwarded as they are (it speaks the OpenAI wire). */
    private static boolean remote(InferenceProvider p) {
        return p instanceof OpenAiWire || p instanceof Router r && r.forwardable();
    }

    /** Starts serving {@code providers}, untraced; returns once the port is bound. */
    public static CorralServer start(ServerConfig config, List<InferenceProvider> providers) {
        return start(config, providers, Telemetry.off());
    }

    /** Starts serving {@code providers}, traced by {@code telemetry} (which the caller closes after the server). */
    public static CorralServer start(ServerConfig config, List<InferenceProvider> providers, Telemetry telemetry) {
        return start(new CorralServer(config, providers, null, List.of(), telemetry));
    }

    /** Starts serving the models of {@code registry} (discovered already), with {@code /v1/engines}, untraced. */
    public static CorralServer start(ServerConfig config, EngineRegistry registry) {
        return start(config, registry, Telemetry.off());
    }

    /** Starts serving the models of {@code registry}, traced by {@code telemetry} (which the caller closes after the server). */
    public static CorralServer start(ServerConfig config, EngineRegistry registry, Telemetry telemetry) {
        return start(new CorralServer(config, registry.routers(), registry, List.of(), telemetry));
    }

    private static CorralServer start(CorralServer s) {
        LOG.log(System.Logger.Level.INFO, "listening on %s, serving %s".formatted(s.url(),
                s.models.list().stream().map(ModelInfo::id).collect(Collectors.joining(", "))));
        return s;
    }

    public int port() {
        return http.port();
    }

    /** Whether some model's requests can be forwarded as bytes (a remote engine is configured). */
    boolean forwarding() {
        return gateway != null;
    }

    public String url() {
        return "http://" + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + port();
    }

    /** Stops listening, ends running streams with an error event, and closes the engines. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        http.stopListening();
        streams.shutdown();
        if (gateway != null) {
            gateway.shutdown();
        }
        http.close();
        loops.close();
        if (registry != null) {
            registry.close();
        } else {
            for (InferenceProvider p : new ArrayList<>(models.providers())) {
                p.close();
            }
        }
    }
}

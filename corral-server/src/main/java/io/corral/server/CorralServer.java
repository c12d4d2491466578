package io.corral.server;

import io.corral.remote.Upstreams;
import io.corral.engines.EngineRegistry;
import io.corral.routing.Router;
import io.corral.server.admin.EnginesApi;
import io.corral.server.gateway.Gateway;
import io.corral.server.http.AccessLog;
import io.corral.server.http.ApiKeys;
import io.corral.remote.EventLoops;
import io.corral.server.http.HttpServer;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Pipeline;
import io.corral.server.http.RateLimits;
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
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.remote.OpenAiWire;

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
    private final Pipeline pipeline;
    private final Gateway gateway; // null when no model can be forwarded
    private final EngineRegistry registry;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final io.corral.server.http.Budgets budgets; // null: none
    private io.corral.server.batches.BatchesApi batches; // null: no files, no batches
    /** Writes what budgets counted to the state store every 2 s, off the request threads. */
    private final java.util.concurrent.ScheduledExecutorService budgetFlush = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("corral-budgets").unstarted(r));

    private CorralServer(ServerConfig config, List<InferenceProvider> providers, EngineRegistry registry,
                         List<RequestListener> listeners, Telemetry telemetry, Guardrail guardrail, io.corral.spi.Safety safety,
                         io.corral.spi.FilesProvider files, io.corral.spi.VectorStores vectorStores, io.corral.spi.Responses responses,
                         io.corral.spi.LegacyAgents legacyAgents, io.corral.spi.OnDemandModels onDemand,
                         io.corral.spi.ModelLibrary library, io.corral.api.UrlPolicy urls,
                         io.corral.server.http.Budgets budgets, io.corral.spi.KeyValueStore state, io.corral.spi.Prompts prompts) {
        this.config = config;
        this.registry = registry;
        this.models = new ModelDirectory(providers, config.maxQueued());
        if (registry != null || onDemand != null) {
            models.fallback(id -> {
                InferenceProvider p = registry == null ? null : registry.resolve(id);
                return p != null || onDemand == null ? p : onDemand.get(id);
            });
        }
        if (onDemand != null) {
            models.unloaded(onDemand::names, onDemand::describe);
        }
        AccessLog accessLog = new AccessLog(config.logContent(), config.apiKeys(), models::placement);
        OpenAiApi openAi = new OpenAiApi(models, accessLog, streams, config.maxInputTokens(), guardrail, urls, state);
        Routes routes = new Routes()
                .add(openAi)
                .add(new LlamaStackApi(models, registry != null ? registry::providers : models::providers, accessLog, streams, guardrail, urls))
                .add(new io.corral.server.ollama.OllamaApi(models, streams, guardrail, library, onDemand));
        if (onDemand != null || library != null) {
            routes.add(new io.corral.server.admin.ModelsAdminApi(onDemand, library));
        }
        routes.add(new io.corral.server.playground.PlaygroundApi());
        if (registry != null) {
            routes.add(new EnginesApi(registry, models));
        }
        ServerMetrics metrics = new ServerMetrics(models, registry);
        if (files != null) {
            routes.add(new io.corral.server.files.FilesApi(files));
            routes.add(new io.corral.server.files.UploadsApi(files, state, java.time.Clock.systemUTC()));
            io.corral.spi.Responses agent = responses;
            var answerer = new io.corral.server.batches.BatchesApi.Answerer() {
                @Override
                public java.util.Set<String> endpoints() {
                    return agent == null ? java.util.Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
                            : java.util.Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses");
                }

                @Override
                @SuppressWarnings("unchecked")
                public com.fasterxml.jackson.databind.JsonNode answer(String tenant, String endpoint, com.fasterxml.jackson.databind.JsonNode body,
                                                                      String id) throws Exception {
                    return endpoint.equals("/v1/responses") && agent != null
                            ? io.corral.server.http.Json.MAPPER.valueToTree(agent.create(tenant, io.corral.server.http.Json.MAPPER.convertValue(body, java.util.Map.class), null))
                            : openAi.answer(endpoint, body, id);
                }
            };
            batches = new io.corral.server.batches.BatchesApi(files, state, answerer, new io.corral.server.batches.BatchesApi.Observer() {
                @Override
                public io.corral.spi.Span start(String name, java.util.Map<String, String> attributes) {
                    return telemetry.serverSpan(name, java.util.Map.of(), attributes);
                }

                @Override
                public void finished(String endpoint, String model, int status, long promptTokens, long completionTokens) {
                    metrics.batchRequest(endpoint, model, status, promptTokens, completionTokens);
                }
            }, java.time.Clock.systemUTC());
            routes.add(batches);
        }
        if (vectorStores != null) {
            routes.add(new io.corral.server.vectorstores.VectorStoresApi(vectorStores));
            routes.add(new io.corral.server.vectorstores.VectorIoApi(vectorStores));
            routes.add(new io.corral.server.toolruntime.RagToolApi(vectorStores));
            routes.add(new io.corral.server.admin.BackupApi(vectorStores));
        }
        if (prompts != null) {
            routes.add(new io.corral.server.prompts.PromptsApi(prompts));
        }
        if (responses != null) {
            routes.add(new io.corral.server.responses.ResponsesApi(responses));
        }
        if (legacyAgents != null) {
            routes.add(new io.corral.server.agents.AgentsApi(legacyAgents));
        }
        if (safety != null) {
            routes.add(new io.corral.server.safety.SafetyApi(safety));
            safety.listen(metrics::shieldCheck);
        }
        routes.add(new TelemetryApi(metrics)).add(new TracesApi(telemetry))
                .add(new io.corral.server.http.OpenApi(io.corral.server.llamastack.LlamaStackApi.VERSION));
        List<RequestListener> all = new ArrayList<>(listeners);
        all.add(metrics);
        this.pipeline = new Pipeline(routes, new ApiKeys(config.apiKeys(), config.adminKeys()), TrustedProxies.of(config.trustedProxies()),
                accessLog, all, new Tracing(telemetry));
        pipeline.rateLimits(new RateLimits(config.rateLimits(), ApiKeys::tenantOf, System::nanoTime));
        pipeline.budgets(budgets);
        this.budgets = budgets != null && budgets.any() ? budgets : null;
        if (this.budgets != null) {
            budgetFlush.scheduleWithFixedDelay(this.budgets::flush, 2, 2, java.util.concurrent.TimeUnit.SECONDS);
        }
        this.loops = EventLoops.start();
        boolean forwarding = !config.logContent()
                && (registry != null ? registry.providers() : providers).stream().anyMatch(CorralServer::remote);
        this.gateway = forwarding ? new Gateway(models, pipeline, guardrail::guards, new Upstreams(loops)) : null;
        pipeline.forwarder(gateway);
        try {
            this.http = HttpServer.start(config.host(), config.port(), pipeline, loops, config.maxBodyBytes(), config.idleTimeout(),
                    tls(config.tls()));
        } catch (RuntimeException e) {
            loops.close();
            throw e;
        }
    }

    /** Whether requests for {@code p}'s models could be forwarded as they are (it speaks the OpenAI wire). */
    private static boolean remote(InferenceProvider p) {
        return p instanceof OpenAiWire || p instanceof Router r && Gateway.forwardable(r);
    }

    /** Starts serving {@code providers}, untraced and unguarded; returns once the port is bound. */
    public static CorralServer start(ServerConfig config, List<InferenceProvider> providers) {
        return builder(config).providers(providers).start();
    }

    /** Starts serving the models of {@code registry} (discovered already), with {@code /v1/engines}; untraced, unguarded. */
    public static CorralServer start(ServerConfig config, EngineRegistry registry) {
        return builder(config).registry(registry).start();
    }

    public static Builder builder(ServerConfig config) {
        return new Builder(config);
    }

    /** What a server serves and what wraps every request: its models (providers or an engine registry), traces, guardrails. */
    public static final class Builder {
        private final ServerConfig config;
        private List<InferenceProvider> providers;
        private EngineRegistry registry;
        private Telemetry telemetry = Telemetry.off();
        private Guardrail guardrail = Guardrail.NONE;
        private io.corral.spi.Safety safety;
        private io.corral.spi.Responses responses;
        private io.corral.spi.LegacyAgents legacyAgents;
        private io.corral.spi.OnDemandModels onDemand;
        private io.corral.spi.ModelLibrary library;
        private io.corral.spi.FilesProvider files;
        private io.corral.spi.VectorStores vectorStores;
        private io.corral.api.UrlPolicy urls = io.corral.api.UrlPolicy.PUBLIC_ONLY;
        private io.corral.server.http.Budgets.Config budgets = io.corral.server.http.Budgets.Config.NONE;
        private io.corral.spi.KeyValueStore budgetState;
        private io.corral.spi.KeyValueStore state;
        private io.corral.spi.Prompts prompts;

        private Builder(ServerConfig config) {
            this.config = config;
        }

        /** Serve these providers (the server closes them). */
        public Builder providers(List<InferenceProvider> p) {
            if (registry != null) {
                throw new IllegalStateException("the server already serves an engine registry");
            }
            providers = List.copyOf(p);
            return this;
        }

        /** Serve the models of {@code r}, discovered already, with {@code /v1/engines} (the server closes it). */
        public Builder registry(EngineRegistry r) {
            if (providers != null) {
                throw new IllegalStateException("the server already serves a list of providers");
            }
            registry = r;
            return this;
        }

        /** Trace every request with {@code t}; the caller closes it after the server. */
        public Builder telemetry(Telemetry t) {
            telemetry = java.util.Objects.requireNonNull(t, "telemetry");
            return this;
        }

        /** Guard requests with {@code g} (without the safety API: {@link #safety} gives both). */
        public Builder guardrail(Guardrail g) {
            guardrail = java.util.Objects.requireNonNull(g, "guardrail");
            return this;
        }

        /**
         * Serve the shields, {@code run-shield} and moderations of {@code s}, guard requests with its guardrails and
         * count its checks in {@code /metrics} (the caller closes it after the server).
         */
        public Builder safety(io.corral.spi.Safety s) {
            safety = java.util.Objects.requireNonNull(s, "safety");
            guardrail = s.guardrail();
            return this;
        }

        /** Serve OpenAI's Files API over {@code f} (the caller closes it after the server). */
        public Builder files(io.corral.spi.FilesProvider f) {
            files = java.util.Objects.requireNonNull(f, "files");
            return this;
        }

        /** Serve OpenAI's vector stores API over {@code v} (the caller closes it after the server). */
        public Builder vectorStores(io.corral.spi.VectorStores v) {
            vectorStores = java.util.Objects.requireNonNull(v, "vector stores");
            return this;
        }

        /** Serve OpenAI's Responses and Conversations APIs over {@code r} (the caller closes it after the server). */
        public Builder responses(io.corral.spi.Responses r) {
            responses = java.util.Objects.requireNonNull(r, "responses");
            return this;
        }

        /**
         * Serve models loaded on their first request, listed in {@code /v1/models} before they are loaded; Ollama's
         * {@code keep_alive} and {@code /api/ps}, and the admin routes load and unload them.
         */
        public Builder onDemand(io.corral.spi.OnDemandModels models) {
            onDemand = java.util.Objects.requireNonNull(models, "models");
            return this;
        }

        /** Serve Ollama's model management ({@code /api/pull}, {@code /api/delete}, {@code /api/copy}) over {@code l}. */
        public Builder library(io.corral.spi.ModelLibrary l) {
            library = java.util.Objects.requireNonNull(l, "library");
            return this;
        }

        /** Where URLs that requests carry (images) may lead; public addresses only unless this says. */
        public Builder urls(io.corral.api.UrlPolicy u) {
            urls = java.util.Objects.requireNonNull(u, "urls");
            return this;
        }

        /**
         * Per key budgets of requests and tokens a period, their use kept in {@code state} (null: in memory only), so
         * they outlive restarts and nodes sharing it share them.
         */
        public Builder budgets(io.corral.server.http.Budgets.Config b, io.corral.spi.KeyValueStore state) {
            budgets = java.util.Objects.requireNonNull(b, "budgets");
            budgetState = state;
            return this;
        }

        /** The state store: where chat completions asked for with {@code store: true} are kept (unset: in memory only). */
        public Builder state(io.corral.spi.KeyValueStore kv) {
            state = java.util.Objects.requireNonNull(kv, "state");
            return this;
        }

        /** Serve Llama Stack's prompts API over {@code p} (what responses name by {@code prompt}). */
        public Builder prompts(io.corral.spi.Prompts p) {
            prompts = java.util.Objects.requireNonNull(p, "prompts");
            return this;
        }

        /** Serve Llama Stack 0.2.x's agents API over {@code a}. */
        public Builder legacyAgents(io.corral.spi.LegacyAgents a) {
            legacyAgents = java.util.Objects.requireNonNull(a, "agents");
            return this;
        }

        /** Starts serving; returns once the port is bound. */
        public CorralServer start() {
            if (providers == null && registry == null && onDemand == null) {
                throw new IllegalStateException("a server needs providers, an engine registry or models on demand to serve");
            }
            return CorralServer.start(new CorralServer(config, registry != null ? registry.routers()
                    : providers != null ? providers : List.of(), registry,
                    List.of(), telemetry, guardrail, safety, files, vectorStores, responses, legacyAgents, onDemand, library, urls,
                    new io.corral.server.http.Budgets(budgets, io.corral.server.http.ApiKeys::tenantOf, budgetState, java.time.Clock.systemUTC()),
                    state != null ? state : new io.corral.spi.MemoryKeyValueStore(), prompts));
        }
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

    /** The server's TLS context from its PEM files; a file that is no certificate or key is a clear error. */
    private static io.netty.handler.ssl.SslContext tls(ServerConfig.Tls tls) {
        if (tls == null) {
            return null;
        }
        try {
            return io.netty.handler.ssl.SslContextBuilder.forServer(tls.cert().toFile(), tls.key().toFile()).build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serve HTTPS with tls_cert " + tls.cert() + " and tls_key " + tls.key()
                    + ": " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage())
                    + " (PEM files; the key in PKCS#8, BEGIN PRIVATE KEY)", e);
        }
    }

    public String url() {
        return (config.tls() != null ? "https://" : "http://") + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + port();
    }

    /**
     * Stops: no new connection, and a new request on an open one is refused (503 {@code server_shutting_down}); the
     * requests running may finish within the shutdown grace; then the streams still running end with an error event,
     * and the engines close.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        http.stopListening();
        if (batches != null) {
            batches.close(); // what runs stays unfinished, to run again at the next start
        }
        pipeline.drain();
        http.awaitAnswered(config.shutdownGrace());
        streams.shutdown();
        if (gateway != null) {
            gateway.shutdown();
        }
        http.close();
        loops.close();
        budgetFlush.shutdownNow();
        if (budgets != null) {
            budgets.flush();
        }
        if (registry != null) {
            registry.close();
        } else {
            for (InferenceProvider p : new ArrayList<>(models.providers())) {
                p.close();
            }
        }
    }
}

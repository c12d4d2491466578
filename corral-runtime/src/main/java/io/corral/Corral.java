package io.corral;

import io.corral.api.ChatRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.ContextUsage;
import io.corral.api.ChatMessage;
import io.corral.api.SamplingParams;
import io.corral.api.Session;
import io.corral.api.TokenStream;
import io.corral.gguf.ModelMetadata;
import io.corral.llamacpp.BundledModel;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.llamacpp.LlamaSession;
import io.corral.config.ConfigLoader;
import io.corral.config.Distribution;
import io.corral.engines.EngineRegistry;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Corral as a Java library. The quick API:
 * <pre>{@code
 * String text = Corral.generate(Path.of("model.gguf"), "Once upon a time");
 * try (Session chat = Corral.session(Path.of("model.gguf"))) {
 *     chat.send("Hello!");
 * }
 * }</pre>
 * and a {@link #builder()} for everything else: the in-process model, remote engines
 * ({@code .remote(Preset.OLLAMA, "http://127.0.0.1:11434/v1")}, or the hosts the environment lists),
 * a routing mode, or a whole distribution config; the same engines, discovery, routing and fallback that
 * {@code corral serve} has, assembled here for both. A request's {@code model} picks the model (null: the
 * default one, the in-process model when there is one). A {@code Corral} owns its engines; close it.
 * Thread-safe: concurrent calls run in parallel up to each engine's limit.
 */
public final class Corral implements AutoCloseable {

    private final EngineRegistry registry;
    private final LlamaCppEngine engine; // the in-process engine, or null
    private final SamplingParams sampling;
    private final String defaultModel;

    private Corral(EngineRegistry registry, LlamaCppEngine engine, SamplingParams sampling, String defaultModel) {
        this.registry = registry;
        this.engine = engine;
        this.sampling = sampling;
        this.defaultModel = defaultModel;
    }

    /** Generates once from a model file with default sampling; loads and frees the model. */
    public static String generate(Path model, String prompt) {
        try (Corral c = builder().model(model).build()) {
            return c.complete(prompt).text();
        }
    }

    /** Opens a conversation on a model file; closing the session frees the model. */
    public static Session session(Path model) {
        Corral c = builder().model(model).build();
        return new OwningSession(c.openSession(null), c);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The model {@code id} names (null: the default), as the router that serves it. */
    private InferenceProvider provider(String id) {
        String model = id == null || id.isBlank() ? defaultModel : id;
        if (model == null) {
            throw new ModelNotFoundException("no model is available (no in-process model, and no engine listed one)");
        }
        Router r = registry.resolve(model);
        if (r == null) {
            throw new ModelNotFoundException("model '" + model + "' not found; available: " + registry.models().keySet());
        }
        return r;
    }

    /** Continues a raw prompt (no chat template) on the default model. */
    public ChatResult complete(String prompt) {
        return complete(new CompletionRequest(defaultModel, prompt, sampling, null));
    }

    public ChatResult complete(CompletionRequest request) {
        return provider(request.model()).complete(request);
    }

    /** Answers one user message. */
    public ChatResult chat(String userText) {
        return chat(ChatRequest.builder().user(userText).sampling(sampling).build());
    }

    public ChatResult chat(ChatRequest request) {
        return provider(request.model()).chat(request);
    }

    /** Streams the answer event by event; close the stream (try-with-resources) to stop early. */
    public TokenStream stream(ChatRequest request) {
        return provider(request.model()).stream(request);
    }

    public TokenStream stream(String userText) {
        return stream(ChatRequest.builder().user(userText).sampling(sampling).build());
    }

    /** Embeds texts with the request's model (null: the default). */
    public EmbeddingResult embed(EmbeddingRequest request) {
        return provider(request.model()).embed(request);
    }

    /** A stateful conversation with its own context on the in-process model; {@code systemPrompt} may be null. */
    public LlamaSession openSession(String systemPrompt) {
        return local().openSession(systemPrompt, sampling);
    }

    /** Reopens a conversation saved with {@link Session#save(Path)}. */
    public LlamaSession restoreSession(Path file) {
        return local().restoreSession(file, sampling);
    }

    private LlamaCppEngine local() {
        if (engine == null) {
            throw new InvalidRequestException("model", "sessions keep their state in-process: this Corral has no in-process model");
        }
        return engine;
    }

    /** Every model, by the id requests use (a model several engines serve is listed once). */
    public List<ModelInfo> models() {
        return registry.routers().stream().flatMap(p -> p.models().stream()).toList();
    }

    /** The engines: in-process and remote, their health, and the routers over them (what {@code serve} serves). */
    public EngineRegistry engines() {
        return registry;
    }

    /** The in-process model's GGUF metadata. */
    public ModelMetadata metadata() {
        return local().metadata();
    }

    /** The default sampling of this instance. */
    public SamplingParams sampling() {
        return sampling;
    }

    public int contextSize() {
        return local().contextSize();
    }

    @Override
    public void close() {
        registry.close();
    }

    /** Configures a {@link Corral}; every setting has a default, the model is the bundled one. */
    public static final class Builder {
        private Path model;
        private Path mmproj;
        private String modelId;
        private int contextSize;
        private int threads;
        private int parallel = 2;
        private io.corral.llamacpp.Offload offload = io.corral.llamacpp.Offload.AUTO;
        private boolean local = true;
        private SamplingParams sampling = SamplingParams.DEFAULTS;
        private final List<OpenAiRemoteProvider> remotes = new ArrayList<>();
        private Map<String, String> environment = Map.of();
        private RoutingMode routing = RoutingMode.LOCAL_FIRST;
        private Path configFile;
        private io.corral.config.DistributionConfig config;

        public Builder model(Path file) { model = file; return this; }
        public Builder modelId(String id) { modelId = id; return this; }
        /** The model's multimodal projector, so that it sees images (default: one beside the model file, if any). */
        public Builder mmproj(Path file) { mmproj = file; return this; }
        /** KV cache tokens per conversation; 0 (default) for the model's own, up to 8192. */
        public Builder contextSize(int tokens) { contextSize = tokens; return this; }
        /** CPU threads per generation; 0 (default) for all cores. */
        public Builder threads(int n) { threads = n; return this; }
        /** How many stateless generations run at once (default 2). */
        public Builder parallel(int n) { parallel = n; return this; }
        /** How much of the model goes to the GPU (default: as many layers as fit; {@code Offload.NONE}: the CPU only). */
        public Builder offload(io.corral.llamacpp.Offload o) { offload = o == null ? io.corral.llamacpp.Offload.AUTO : o; return this; }
        /** Layers offloaded to the GPU, the output layer counted (0: none). */
        public Builder gpuLayers(int n) { offload = new io.corral.llamacpp.Offload(n, offload.mainGpu(), offload.splitMode(), false); return this; }
        public Builder sampling(SamplingParams p) { sampling = p; return this; }
        /** No in-process model: only remote engines serve. */
        public Builder noLocal() { local = false; return this; }
        /** Whether an in-process model serves (default true). */
        public Builder local(boolean on) { local = on; return this; }
        /** A remote engine: an OpenAI-compatible host of this kind, e.g. {@code (Preset.OLLAMA, "http://127.0.0.1:11434/v1")}. */
        public Builder remote(Preset kind, String baseUrl) { return remote(RemoteConfig.of(kind, baseUrl)); }
        /** A remote engine with its own key, priority and timeouts. */
        public Builder remote(RemoteConfig host) { remotes.add(new OpenAiRemoteProvider(host)); return this; }
        /** Also the hosts {@code LLAMACPP_HOSTS}, {@code OLLAMA_HOSTS}, {@code MLX_HOSTS}, ... in {@code env} list. */
        public Builder environment(Map<String, String> env) { environment = Map.copyOf(env); return this; }
        /** How a model's runners are chosen (default local-first); fallback moves on after a failure either way. */
        public Builder routing(RoutingMode mode) { routing = mode; return this; }
        /** Everything from a distribution config file (as {@code corral serve --config}); the other settings are then not used. */
        public Builder config(Path distribution) {
            return distribution(distribution, ConfigLoader.load(distribution, name -> environment.isEmpty() ? System.getenv(name) : environment.get(name)));
        }
        /** A distribution config already read from {@code file} (errors name it). */
        public Builder distribution(Path file, io.corral.config.DistributionConfig loaded) {
            configFile = file;
            config = loaded;
            return this;
        }

        /**
         * Loads the in-process model (a bad file fails here with an {@link io.corral.api.InvalidModelException}),
         * then discovers every remote engine's models (a host that is down is marked so, never fatal).
         */
        public Corral build() {
            EngineRegistry registry;
            if (config != null) {
                registry = Distribution.open(configFile, config, environment);
            } else {
                List<InferenceProvider> engines = new ArrayList<>();
                if (local) {
                    Path file = model != null ? model : BundledModel.path();
                    engines.add(LlamaCppEngine.open(new LlamaCppConfig(file, modelId, contextSize, threads, 512, parallel, offload, mmproj)));
                    // the default embedding model, loaded on its first request
                    engines.add(new io.corral.onnx.OnnxEmbeddings("sentence-transformers"));
                }
                List<OpenAiRemoteProvider> hosts = new ArrayList<>(remotes);
                hosts.addAll(EngineRegistry.hostsFrom(environment));
                registry = new EngineRegistry(engines, hosts, new Router.Policy(routing, 3, Duration.ofMillis(50)),
                        Ticker.system(), Clock.systemUTC());
                registry.discover();
            }
            LlamaCppEngine engine = registry.providers().stream().filter(p -> p instanceof LlamaCppEngine)
                    .map(p -> (LlamaCppEngine) p).findFirst().orElse(null);
            String first = engine != null ? engine.modelId()
                    : registry.routers().stream().map(p -> p.models().getFirst().id()).findFirst().orElse(null);
            return new Corral(registry, engine, sampling, first);
        }
    }

    /** A session that also frees the model it was opened on. */
    private record OwningSession(Session session, Corral owner) implements Session {
        public ChatResult send(String userText) { return session.send(userText); }
        public TokenStream stream(ChatMessage message) { return session.stream(message); }
        public List<ChatMessage> history() { return session.history(); }
        public ContextUsage contextUsage() { return session.contextUsage(); }
        public void trim(int tokens) { session.trim(tokens); }
        public void clear() { session.clear(); }
        public void save(Path file) { session.save(file); }

        public void close() {
            try {
                session.close();
            } finally {
                owner.close();
            }
        }
    }
}

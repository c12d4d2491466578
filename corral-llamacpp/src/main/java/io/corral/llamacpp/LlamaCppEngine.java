package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.ContextOverflowException;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.ResponseFormat;
import io.corral.api.SamplingParams;
import io.corral.api.TokenStream;
import io.corral.gguf.ModelMetadata;
import io.corral.llamacpp.ffi.LlamaLibrary;
import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;
import io.corral.llamacpp.ffi.NativeSampler;
import io.corral.llamacpp.grammar.JsonSchemaGrammar;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The in-process llama.cpp engine for one GGUF model. Every generation, stateless or a session's turn, is a
 * sequence of one KV cache (a stream of cells each), decoded in batches with the others running ({@link Scheduler}: continuous
 * batching, prompt caching across requests); {@link #openSession} gives a conversation a sequence of its own.
 */
public final class LlamaCppEngine implements InferenceProvider {

    private static final Set<Capability> CAPABILITIES =
            EnumSet.of(Capability.CHAT, Capability.COMPLETION, Capability.JSON_SCHEMA, Capability.SESSIONS,
                    Capability.TOOLS, Capability.EMBEDDINGS);
    private static final int MAX_DEFAULT_CONTEXT = 8192;

    private final String providerId;
    private final LlamaCppConfig config;
    private final ModelMetadata metadata;
    private final NativeModel model;
    private final PromptFormat format;
    private final Scheduler scheduler;
    // embeddings contexts, made on first use, at most parallel of them; a request holds one while it runs
    private final java.util.concurrent.ConcurrentLinkedDeque<NativeContext> idleEmbedders = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final List<NativeContext> allEmbedders = new ArrayList<>();
    private final java.util.concurrent.Semaphore embedders;
    private volatile boolean closed;
    private final java.util.Set<LlamaSession> sessions = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private volatile Placement placement;
    private final io.corral.llamacpp.ffi.NativeVision vision; // null: text only
    private final Set<Capability> capabilities;

    /**
     * Where a model runs.
     *
     * @param device      the GPU its offloaded layers are on ({@code "CUDA0 (NVIDIA H100 80GB HBM3)"}), or {@code "CPU"}
     * @param backend     {@code cuda}, {@code vulkan}, {@code metal} or {@code cpu}
     * @param gpuLayers   layers offloaded ({@code n_gpu_layers}), of {@code layers} (the blocks and the output layer)
     * @param deviceBytes the GPU memory the model and its cache took when they loaded (its free memory before less
     *                    after); 0 on the CPU
     * @param fallback    why a GPU present is not used ("" when it is, or none is)
     */
    public record Placement(String device, String backend, int gpuLayers, int layers, long deviceBytes, String fallback) {
    }

    private LlamaCppEngine(String providerId, LlamaCppConfig config, ModelMetadata metadata, NativeModel model,
                           io.corral.llamacpp.ffi.NativeVision vision) {
        this.providerId = providerId;
        this.vision = vision;
        Set<Capability> caps = EnumSet.copyOf(CAPABILITIES);
        if (vision != null) {
            caps.add(Capability.VISION);
        }
        this.capabilities = java.util.Collections.unmodifiableSet(caps);
        this.config = config;
        this.embedders = new java.util.concurrent.Semaphore(config.parallel());
        this.metadata = metadata;
        this.model = model;
        this.format = new PromptFormat(model);
        this.scheduler = new Scheduler(model, config, config.id());
    }

    /** Checks the file's header, then loads the model. */
    public static LlamaCppEngine open(LlamaCppConfig config) {
        return open("llamacpp", config);
    }

    public static LlamaCppEngine open(String providerId, LlamaCppConfig config) {
        io.corral.gguf.GgufFile gguf = io.corral.gguf.GgufReader.read(config.model());
        ModelMetadata metadata = ModelMetadata.of(config.model(), gguf);
        int trained = metadata.contextLength();
        int contextSize = config.contextSize() > 0 ? config.contextSize()
                : Math.min(trained > 0 ? trained : MAX_DEFAULT_CONTEXT, MAX_DEFAULT_CONTEXT);
        LlamaCppConfig sized = config.withContextSize(contextSize);
        LlamaLibrary lib = LlamaLibrary.get();
        Offload offload = sized.offload();
        List<LlamaLibrary.Device> gpus = offload.noGpu() ? List.of() : lib.devices().stream().filter(LlamaLibrary.Device::gpu).toList();
        LayerFit fit = LayerFit.of(gguf, contextSize * (sized.parallel() + 1), sized.batchSize());
        LayerFit.Plan plan;
        if (gpus.isEmpty()) {
            plan = fit.take(0);
        } else if (offload.gpuLayers() != null) {
            plan = fit.take(offload.gpuLayers());
        } else {
            long free = offload.splitMode() == Offload.SplitMode.NONE
                    ? gpus.get(Math.min(offload.mainGpu(), gpus.size() - 1)).freeBytes()
                    : gpus.stream().mapToLong(LlamaLibrary.Device::freeBytes).sum();
            plan = fit.fit(free);
        }
        long freeBefore = gpus.stream().mapToLong(LlamaLibrary.Device::freeBytes).sum();
        NativeModel model = NativeModel.load(sized.model(), plan.gpuLayers(), offload.mainGpu(),
                offload.splitMode().ordinal(), offload.noGpu() || gpus.isEmpty());
        LlamaCppEngine engine;
        io.corral.llamacpp.ffi.NativeVision vision = null;
        try {
            vision = projector(sized, model, offload.noGpu() || gpus.isEmpty());
            engine = new LlamaCppEngine(providerId, sized, metadata, model, vision);
        } catch (RuntimeException | Error e) {
            if (vision != null) {
                vision.close();
            }
            model.close();
            throw e;
        }
        long held = 0;
        String device = "CPU";
        if (!gpus.isEmpty() && plan.gpuLayers() > 0) {
            long freeAfter = lib.devices().stream().filter(LlamaLibrary.Device::gpu).mapToLong(LlamaLibrary.Device::freeBytes).sum();
            held = Math.max(0, freeBefore - freeAfter);
            LlamaLibrary.Device main = offload.splitMode() == Offload.SplitMode.NONE
                    ? gpus.get(Math.min(offload.mainGpu(), gpus.size() - 1)) : gpus.getFirst();
            device = main.name() + " (" + main.description() + ")";
        }
        String fallback = offload.noGpu() ? "no_gpu" : lib.backends().fallback();
        engine.placement = new Placement(device, device.equals("CPU") ? "cpu" : lib.backends().backend(),
                plan.gpuLayers(), plan.offloadable(), held, fallback);
        return engine;
    }

    /**
     * The model's projector: the configured one (an error when it cannot load), else one beside the model file, else
     * none. One found beside the model where this build has no multimodal library is left out, said in the log.
     */
    private static io.corral.llamacpp.ffi.NativeVision projector(LlamaCppConfig config, NativeModel model, boolean cpu) {
        Path file = config.mmproj() != null ? config.mmproj() : io.corral.api.Projectors.find(config.model());
        if (file == null) {
            return null;
        }
        if (config.mmproj() == null && !io.corral.llamacpp.ffi.NativeVision.available()) {
            System.getLogger(LlamaCppEngine.class.getName()).log(System.Logger.Level.WARNING, "projector " + file
                    + " left out: this build of Corral has no multimodal library for this platform");
            return null;
        }
        return io.corral.llamacpp.ffi.NativeVision.load(file, model, config.threads(), !cpu);
    }

    /** Whether the model sees images (a projector is loaded with it). */
    public boolean vision() {
        return vision != null;
    }

    /** The model's projector, or null. */
    io.corral.llamacpp.ffi.NativeVision projector() {
        return vision;
    }

    /** Where the model runs: its device, offloaded layers and the device memory it holds. */
    public Placement placement() {
        return placement;
    }

    @Override
    public String id() {
        return providerId;
    }

    @Override
    public String type() {
        return "inline::llamacpp";
    }

    @Override
    public String vendor() {
        return "llama.cpp";
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    /** The model id requests use. */
    public String modelId() {
        return config.id();
    }

    public ModelMetadata metadata() {
        return metadata;
    }

    public LlamaCppConfig config() {
        return config;
    }

    /** The context window of each generation and session, in tokens. */
    public int contextSize() {
        return config.contextSize();
    }

    /** Whether the model has no chat template and is prompted with the plain layout. */
    public boolean baseModel() {
        return format.plain();
    }

    @Override
    public List<ModelInfo> models() {
        var m = new java.util.LinkedHashMap<String, Object>(metadata.toMap());
        m.put("runtime", "llama.cpp (in-process)");
        Placement p = placement;
        if (p != null) {
            m.put("device", p.device());
            m.put("backend", p.backend());
            m.put("gpu_layers", p.gpuLayers());
            m.put("offloadable_layers", p.layers());
            m.put("device_memory", p.deviceBytes());
            if (!p.fallback().isEmpty()) {
                m.put("gpu_fallback", p.fallback());
            }
        }
        m.put("loaded", true);
        if (vision != null) {
            m.put("projector", vision.file().toString());
        }
        // a generative model that also embeds (its own hidden states, mean-pooled)
        return List.of(new ModelInfo(config.id(), providerId, io.corral.spi.ModelType.LLM, metadata.contextLength(),
                metadata.embeddingLength(), capabilities, m));
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        checkModel(request.model());
        boolean images = request.messages().stream().anyMatch(ChatMessage::hasImages);
        if (images && vision == null) {
            throw new InvalidRequestException("messages", "model " + config.id() + " does not accept images"
                    + " (it has no projector: give one with --mmproj or mmproj in its config, or put it beside the model)");
        }
        // tool_choice none: the model is not told of the tools, and its answer is text
        List<io.corral.api.ToolSpec> tools = request.toolChoice() instanceof io.corral.api.ToolChoice.None ? List.of() : request.tools();
        int[] prompt;
        List<io.corral.llamacpp.ffi.NativeVision.Embedded> embedded = List.of();
        if (images) {
            // each image is the projector's marker in its message's text, read and encoded in order
            List<ChatMessage> marked = Images.marked(request.messages(), io.corral.llamacpp.ffi.NativeVision.MARKER);
            var p = vision.tokenize(format.renderRequest(marked, tools), Images.decoded(request.messages(), 0), true, !format.plain());
            prompt = p.tokens();
            embedded = p.images();
        } else {
            prompt = model.tokenize(format.renderRequest(request.messages(), tools), true, !format.plain());
        }
        if (request.forcesToolCall()) {
            ResponseFormat call = new ResponseFormat.JsonSchema("tool_call", ToolCalls.schema(request));
            return ToolCalls.stream(start(prompt, embedded, request.sampling(), sampler(request.sampling(), call), List.of()));
        }
        if (tools.isEmpty() || request.format() != ResponseFormat.TEXT) {
            return start(prompt, embedded, request.sampling(), sampler(request.sampling(), request.format()), format.stops());
        }
        // tool_choice auto: free text, until a call starts; from there the call is held to the tools' schemas
        ToolCallFormat calls = format.toolCalls();
        NativeSampler lazy = sampler(request.sampling(), ToolCalls.lazyGrammar(tools, calls), calls.triggerPattern());
        return ToolCalls.auto(start(prompt, embedded, request.sampling(), lazy, format.stops()), calls);
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        checkModel(request.model());
        int[] prompt;
        if (request.promptTokens() != null) {
            prompt = new int[request.promptTokens().size()];
            for (int i = 0; i < prompt.length; i++) {
                int t = request.promptTokens().get(i);
                if (t < 0 || t >= model.vocabSize()) {
                    throw new InvalidRequestException("prompt", "prompt token " + t + " is not in the model's vocabulary (0.."
                            + (model.vocabSize() - 1) + ")");
                }
                prompt[i] = t;
            }
            if (prompt.length == 0) {
                throw new InvalidRequestException("prompt", "prompt has no tokens");
            }
        } else {
            prompt = model.tokenize(request.prompt(), true, true); // special tokens written out are tokens, as llama.cpp's server reads them
        }
        return start(prompt, request.sampling(), sampler(request.sampling(), request.format()), List.of());
    }

    /** Starts generating from {@code prompt}; the generation owns {@code sampler} (closed here if it cannot start). */
    Generation start(int[] prompt, SamplingParams sampling, NativeSampler sampler, List<String> extraStops) {
        return start(prompt, List.of(), sampling, sampler, extraStops);
    }

    /** {@link #start(int[], SamplingParams, NativeSampler, List)} of a prompt with images in their slots. */
    Generation start(int[] prompt, List<io.corral.llamacpp.ffi.NativeVision.Embedded> images, SamplingParams sampling,
                     NativeSampler sampler, List<String> extraStops) {
        if (prompt.length >= contextSize()) {
            sampler.close();
            throw new ContextOverflowException("prompt of " + prompt.length
                    + " tokens does not fit the context window of " + contextSize() + " tokens");
        }
        Generation g = new Generation(model, null, sampler, prompt, sampling, stops(sampling, extraStops), config.id(),
                providerId, Generation.STATELESS, contextSize());
        g.images = images;
        try {
            scheduler.submit(g);
        } catch (RuntimeException e) {
            sampler.close();
            throw e;
        }
        return g;
    }

    /**
     * Mean-pooled embeddings from the model's last hidden layer, one per input. A generative model
     * makes usable but not specialised vectors; an embedding model (BERT-like GGUF) makes better ones.
     * Requests run concurrently, each on an embeddings context of its own (up to {@code parallel}, then they
     * wait), and a request's inputs are evaluated in batches of up to {@value #EMBED_SEQUENCES} at once.
     */
    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        checkModel(request.model());
        int dims = model.embeddingSize();
        int size = request.size(config.id(), dims);
        List<int[]> inputs = new ArrayList<>();
        for (int i = 0; i < request.inputs().size(); i++) {
            int[] input = model.tokenize(request.inputs().get(i), true, false);
            if (input.length == 0) {
                throw new InvalidRequestException("input", "input " + i + " is empty");
            }
            if (input.length > contextSize()) {
                throw new ContextOverflowException("input " + i + " of " + input.length + " tokens is longer than the "
                        + contextSize() + "-token window");
            }
            inputs.add(input);
        }
        NativeContext ctx = borrowEmbedder();
        try {
            List<float[]> vectors = new ArrayList<>();
            int tokens = 0;
            for (int next = 0; next < inputs.size(); ) {
                List<int[]> batch = new ArrayList<>();
                int total = 0;
                while (next < inputs.size() && batch.size() < ctx.sequences() && total + inputs.get(next).length <= ctx.size()) {
                    total += inputs.get(next).length;
                    batch.add(inputs.get(next++));
                }
                ctx.setThreads(embedThreads());
                ctx.decodeSequences(batch);
                for (int s = 0; s < batch.size(); s++) {
                    float[] v = ctx.pooledEmbedding(s, dims);
                    vectors.add(EmbeddingRequest.shaped(v, size));
                }
                tokens += total;
            }
            return new EmbeddingResult(config.id(), vectors, tokens);
        } finally {
            giveBack(ctx);
        }
    }

    static final int EMBED_SEQUENCES = 32;

    /**
     * The threads an embeddings batch uses: the configured threads shared among the embedding requests running now, each
     * on a context of its own (two of them with all the threads each meet at llama.cpp's spinning barriers with twice the
     * threads the cores have: one-input requests from 2 clients on the bundled model ran at 3.5 a second against 225 from
     * one client, and from 4 clients on a 1B model at 0.8 against 1.2).
     */
    int embedThreads() {
        return Math.max(1, config.threads() / Math.max(1, config.parallel() - embedders.availablePermits()));
    }

    void giveBack(NativeContext embedder) {
        idleEmbedders.push(embedder);
        embedders.release();
    }

    /** An idle embeddings context, made when fewer than {@code parallel} exist, else the next one given back. */
    NativeContext borrowEmbedder() {
        try {
            embedders.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.corral.api.CancelledException("interrupted while waiting for an embeddings context");
        }
        NativeContext idle = idleEmbedders.poll();
        if (idle != null) {
            return idle;
        }
        try {
            synchronized (allEmbedders) {
                checkModel(null);
                NativeContext made = NativeContext.forEmbeddings(model, contextSize(), config.threads(), EMBED_SEQUENCES);
                allEmbedders.add(made);
                return made;
            }
        } catch (RuntimeException e) {
            embedders.release();
            throw e;
        }
    }

    /** Opens a conversation with its own context; {@code systemPrompt} may be null. */
    public LlamaSession openSession(String systemPrompt, SamplingParams sampling) {
        checkModel(null);
        return track(new LlamaSession(this, systemPrompt, sampling));
    }

    /** Reopens a conversation saved with {@link LlamaSession#save}. */
    public LlamaSession restoreSession(Path file, SamplingParams sampling) {
        return track(LlamaSession.restore(this, file, sampling));
    }

    private LlamaSession track(LlamaSession session) {
        sessions.add(session);
        return session;
    }

    void closed(LlamaSession session) {
        sessions.remove(session);
    }

    NativeModel model() {
        return model;
    }

    PromptFormat format() {
        return format;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    NativeSampler sampler(SamplingParams p, ResponseFormat responseFormat) {
        String grammar = switch (responseFormat) {
            case ResponseFormat.Text t -> null;
            case ResponseFormat.JsonObject j -> JsonSchemaGrammar.anyJsonObject();
            case ResponseFormat.JsonSchema s -> JsonSchemaGrammar.fromSchema(s.schema());
            case ResponseFormat.Grammar g -> g.gbnf();
        };
        return sampler(p, grammar, null);
    }

    /** A sampler whose grammar, with a {@code trigger}, applies only once the output matches it (lazy). */
    NativeSampler sampler(SamplingParams p, String grammar, String trigger) {
        long seed = p.seed() == null ? 0xFFFFFFFFL : p.seed();
        return new NativeSampler(model, new NativeSampler.Spec(p.temperature(), p.topK(), p.topP(), p.minP(),
                p.repeatLastN() == -1 ? contextSize() : p.repeatLastN(), p.repeatPenalty(), p.frequencyPenalty(),
                p.presencePenalty(), seed, grammar, trigger));
    }

    static List<String> stops(SamplingParams sampling, List<String> extra) {
        List<String> stops = new ArrayList<>(sampling.stop());
        stops.addAll(extra);
        return stops;
    }

    private void checkModel(String requested) {
        if (closed) {
            throw new io.corral.api.UnavailableException("engine for " + config.id() + " is closed");
        }
        if (requested != null && !requested.isBlank() && !requested.equals(config.id())) {
            throw new ModelNotFoundException("model '" + requested + "' not found; this engine serves '" + config.id() + "'");
        }
    }

    /** Closes open sessions and contexts, then frees the model. */
    @Override
    public void close() {
        closed = true;
        sessions.forEach(LlamaSession::close);
        synchronized (allEmbedders) {
            allEmbedders.forEach(NativeContext::close); // a request still embedding fails cleanly (closed context)
        }
        scheduler.close();
        if (vision != null) {
            vision.close();
        }
        model.close();
    }
}

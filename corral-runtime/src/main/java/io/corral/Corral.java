package io.corral;

import io.corral.api.ChatRequest;
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
import io.corral.spi.ModelInfo;

import java.nio.file.Path;
import java.util.List;

/**
 * Corral as a Java library. The quick API:
 * <pre>{@code
 * String text = Corral.generate(Path.of("model.gguf"), "Once upon a time");
 * try (Session chat = Corral.session(Path.of("model.gguf"))) {
 *     chat.send("Hello!");
 * }
 * }</pre>
 * and a {@link #builder()} for everything else. A {@code Corral} owns its loaded model; close it.
 * Thread-safe: concurrent calls run in parallel up to {@link Builder#parallel(int)}.
 */
public final class Corral implements AutoCloseable {

    private final LlamaCppEngine engine;
    private final SamplingParams sampling;

    private Corral(LlamaCppEngine engine, SamplingParams sampling) {
        this.engine = engine;
        this.sampling = sampling;
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

    /** Continues a raw prompt (no chat template). */
    public ChatResult complete(String prompt) {
        return engine.complete(new CompletionRequest(null, prompt, sampling, null));
    }

    /** Answers one user message. */
    public ChatResult chat(String userText) {
        return chat(ChatRequest.builder().user(userText).sampling(sampling).build());
    }

    public ChatResult chat(ChatRequest request) {
        return engine.chat(request);
    }

    /** Streams the answer token by token; close the stream (try-with-resources) to stop early. */
    public TokenStream stream(ChatRequest request) {
        return engine.stream(request);
    }

    public TokenStream stream(String userText) {
        return stream(ChatRequest.builder().user(userText).sampling(sampling).build());
    }

    /** A stateful conversation with its own context; {@code systemPrompt} may be null. */
    public LlamaSession openSession(String systemPrompt) {
        return engine.openSession(systemPrompt, sampling);
    }

    /** Reopens a conversation saved with {@link Session#save(Path)}. */
    public LlamaSession restoreSession(Path file) {
        return engine.restoreSession(file, sampling);
    }

    public List<ModelInfo> models() {
        return engine.models();
    }

    public ModelMetadata metadata() {
        return engine.metadata();
    }

    /** The default sampling of this instance. */
    public SamplingParams sampling() {
        return sampling;
    }

    public int contextSize() {
        return engine.contextSize();
    }

    @Override
    public void close() {
        engine.close();
    }

    /** Configures a {@link Corral}; every setting has a default, the model is the bundled one. */
    public static final class Builder {
        private Path model;
        private String modelId;
        private int contextSize;
        private int threads;
        private int parallel = 2;
        private SamplingParams sampling = SamplingParams.DEFAULTS;

        public Builder model(Path file) { model = file; return this; }
        public Builder modelId(String id) { modelId = id; return this; }
        /** KV cache tokens per conversation; 0 (default) for the model's own, up to 8192. */
        public Builder contextSize(int tokens) { contextSize = tokens; return this; }
        /** CPU threads per generation; 0 (default) for all cores. */
        public Builder threads(int n) { threads = n; return this; }
        /** How many stateless generations run at once (default 2). */
        public Builder parallel(int n) { parallel = n; return this; }
        public Builder sampling(SamplingParams p) { sampling = p; return this; }

        /** Loads the model; a bad file fails here with an {@link io.corral.api.InvalidModelException}. */
        public Corral build() {
            Path file = model != null ? model : BundledModel.path();
            LlamaCppConfig config = new LlamaCppConfig(file, modelId, contextSize, threads, 512, parallel, true);
            return new Corral(LlamaCppEngine.open(config), sampling);
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

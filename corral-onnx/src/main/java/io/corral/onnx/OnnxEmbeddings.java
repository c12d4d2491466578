package io.corral.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.corral.api.ChatRequest;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.TokenStream;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.ModelType;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sentence embeddings in-process ({@code inline::sentence-transformers}): all-MiniLM-L6-v2, int8, on ONNX
 * Runtime, 384 dimensions, mean-pooled over the tokens and normalized, as sentence-transformers makes them.
 * The model is loaded on the first request. Each input is evaluated alone, on one thread without spinning, as
 * many at once as there are cores (a request's inputs side by side, and requests beside each other).
 */
public final class OnnxEmbeddings implements InferenceProvider {

    public static final String MODEL = "all-MiniLM-L6-v2";
    static final int DIMENSIONS = 384;
    static final int MAX_TOKENS = 256;

    /**
     * The threads the model runs on: platform threads with a large stack, one a core (ONNX Runtime's kernels run
     * on the calling thread's native stack, which a virtual thread's carrier keeps small).
     */
    private static final java.util.concurrent.ExecutorService RUNNERS = java.util.concurrent.Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(),
            Thread.ofPlatform().name("corral-embeddings-", 0).daemon().stackSize(16L << 20).factory());

    private final String id;
    private volatile OrtSession session;
    private volatile WordPiece tokenizer;
    private volatile boolean closed;

    public OnnxEmbeddings(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return "inline::sentence-transformers";
    }

    @Override
    public String vendor() {
        return "ONNX Runtime";
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.EMBEDDINGS);
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(MODEL, id, ModelType.EMBEDDING, MAX_TOKENS, DIMENSIONS, capabilities(),
                Map.of("runtime", "ONNX Runtime (in-process)", "quantization", "int8", "format", "onnx", "architecture", "bert")));
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        throw new InvalidRequestException("model", MODEL + " is an embedding model: it does not chat");
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        throw new InvalidRequestException("model", MODEL + " is an embedding model: it does not complete text");
    }

    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        if (request.model() != null && !request.model().isBlank() && !request.model().equals(MODEL)) {
            throw new ModelNotFoundException("model '" + request.model() + "' not found; this provider serves '" + MODEL + "'");
        }
        int size = request.size(MODEL, DIMENSIONS);
        load();
        List<int[]> inputs = new ArrayList<>();
        int tokens = 0;
        for (String text : request.inputs()) {
            int[] ids = tokenizer.encode(text, MAX_TOKENS);
            inputs.add(ids);
            tokens += ids.length;
        }
        // each input alone (the int8 model quantizes a whole batch's activations together, so a batch would change
        // an input's vector), the inputs side by side on the cores
        List<float[]> vectors = new ArrayList<>();
        try {
            List<java.util.concurrent.Future<float[]>> done = new ArrayList<>();
            for (int[] input : inputs) {
                done.add(RUNNERS.submit(() -> run(input)));
            }
            for (var f : done) {
                float[] v = f.get();
                vectors.add(EmbeddingRequest.shaped(v, size));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.corral.api.CancelledException("interrupted while embedding");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new EngineException("embedding failed: " + e.getCause(), e.getCause());
        }
        return new EmbeddingResult(MODEL, vectors, tokens);
    }

    /** One input through the model, mean-pooled over its tokens (on one of {@link #RUNNERS}). */
    private float[] run(int[] input) {
        long[][] ids = new long[1][input.length];
        long[][] mask = new long[1][input.length];
        long[][] types = new long[1][input.length];
        for (int j = 0; j < input.length; j++) {
            ids[0][j] = input[j];
            mask[0][j] = 1;
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types)) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            for (String name : session.getInputNames()) {
                feed.put(name, switch (name) {
                    case "input_ids" -> a;
                    case "attention_mask" -> b;
                    case "token_type_ids" -> c;
                    default -> throw new EngineException("the embedding model asks for an unknown input '" + name + "'");
                });
            }
            try (OrtSession.Result r = session.run(feed)) {
                float[][] hidden = ((float[][][]) r.get(0).getValue())[0];
                float[] pooled = new float[DIMENSIONS];
                for (float[] token : hidden) {
                    for (int d = 0; d < DIMENSIONS; d++) {
                        pooled[d] += token[d] / hidden.length;
                    }
                }
                return pooled;
            }
        } catch (OrtException e) {
            throw new EngineException("embedding failed: " + e.getMessage(), e);
        }
    }

    /** Loads the model and its tokenizer from the class path, once. */
    private void load() {
        if (closed) {
            throw new io.corral.api.UnavailableException("embeddings provider " + id + " is closed");
        }
        if (session != null) {
            return;
        }
        synchronized (this) {
            if (session != null) {
                return;
            }
            try (InputStream model = resource("/all-minilm-l6-v2-q.onnx"); InputStream tok = resource("/all-minilm-l6-v2-q-tokenizer.json")) {
                tokenizer = WordPiece.read(tok);
                OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                options.setIntraOpNumThreads(1); // requests run side by side instead, without spinning threads
                options.setInterOpNumThreads(1);
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
                session = OrtEnvironment.getEnvironment().createSession(model.readAllBytes(), options);
            } catch (IOException | OrtException e) {
                throw new EngineException("cannot load " + MODEL + ": " + e.getMessage(), e);
            }
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = OnnxEmbeddings.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is not on the class path");
        }
        return in;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (session != null) {
            try {
                session.close();
            } catch (OrtException ignored) {
                // closing anyway
            }
        }
    }
}

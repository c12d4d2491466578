package io.corral.onnx;

import io.corral.spi.Api;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ProviderFactory;

/** {@code inference: inline::sentence-transformers} (Llama Stack's name): all-MiniLM-L6-v2 in-process. */
public final class SentenceTransformersFactory extends ProviderFactory.Base<SentenceTransformersFactory.Config, InferenceProvider> {

    /** No settings yet: the model is the bundled all-MiniLM-L6-v2. */
    public record Config() {
    }

    public SentenceTransformersFactory() {
        super(Api.INFERENCE, "inline::sentence-transformers", Config.class);
    }

    @Override
    public InferenceProvider create(String id, String type, Config config, Context context) {
        return new OnnxEmbeddings(id);
    }
}

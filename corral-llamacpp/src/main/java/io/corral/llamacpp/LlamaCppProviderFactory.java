package io.corral.llamacpp;

import io.corral.spi.InferenceProvider;
import io.corral.spi.InferenceProviderFactory;

import java.util.Map;

/** {@code inline::llamacpp}: a GGUF model run in-process (the bundled model when none is named). */
public final class LlamaCppProviderFactory implements InferenceProviderFactory {

    @Override
    public String type() {
        return "inline::llamacpp";
    }

    @Override
    public InferenceProvider create(String id, Map<String, String> config) {
        return LlamaCppEngine.open(id, LlamaCppConfig.fromMap(config));
    }
}

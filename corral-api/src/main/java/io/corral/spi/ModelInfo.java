package io.corral.spi;

import java.util.Map;
import java.util.Set;

/**
 * A model a provider serves.
 *
 * @param id            the id requests name it by
 * @param provider      the provider's id
 * @param type          what it is for
 * @param contextLength the context window the model was trained for (0 if unknown)
 * @param dimension     an embedding model's vector size (0 if unknown or not an embedding model)
 * @param capabilities  what it can do; routing sends a request only to runners whose model can do what it needs
 * @param metadata      what else is known (architecture, parameters, quantization, ...)
 */
public record ModelInfo(String id, String provider, ModelType type, int contextLength, int dimension,
                        Set<Capability> capabilities, Map<String, Object> metadata) {

    public ModelInfo {
        capabilities = Set.copyOf(capabilities);
        metadata = Map.copyOf(metadata);
    }

    /** A text-generating model with the given capabilities. */
    public static ModelInfo llm(String id, String provider, int contextLength, Set<Capability> capabilities,
                                Map<String, Object> metadata) {
        return new ModelInfo(id, provider, ModelType.LLM, contextLength, 0, capabilities, metadata);
    }

    /** The same model under another id. */
    public ModelInfo withId(String newId) {
        return new ModelInfo(newId, provider, type, contextLength, dimension, capabilities, metadata);
    }

    public ModelInfo withMetadata(Map<String, Object> newMetadata) {
        return new ModelInfo(id, provider, type, contextLength, dimension, capabilities, newMetadata);
    }
}

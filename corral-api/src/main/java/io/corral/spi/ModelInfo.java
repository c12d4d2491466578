package io.corral.spi;

import java.util.Map;
import java.util.Set;

/**
 * A model a provider serves.
 *
 * @param id            the id requests name it by
 * @param provider      the provider's id
 * @param contextLength the context window the model was trained for (0 if unknown)
 * @param capabilities  what it can do
 * @param metadata      what else is known (architecture, parameters, quantization, ...)
 */
public record ModelInfo(String id, String provider, int contextLength, Set<Capability> capabilities,
                        Map<String, Object> metadata) {

    public ModelInfo {
        capabilities = Set.copyOf(capabilities);
        metadata = Map.copyOf(metadata);
    }
}

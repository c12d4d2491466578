package io.corral.config;

import java.util.List;
import java.util.Map;

/**
 * A distribution, in the spirit of Llama Stack's {@code run.yaml}: server settings, providers per API,
 * and registered models.
 *
 * @param providers per API ({@code inference}, ...), in file order
 * @param ignored   the keys of Llama Stack's run.yaml in the file that Corral has no use for
 */
public record DistributionConfig(Server server, Map<String, List<Provider>> providers, List<Model> models,
                                 List<String> ignored) {

    /** The {@code server:} section. */
    public record Server(String host, int port, boolean allowRemote, List<String> apiKeys, long maxBodyBytes,
                         int maxQueued, String routing, int healthInterval, int idleTimeout,
                         List<String> trustedProxies, int maxInputTokens) {
    }

    /**
     * One provider: id, type (e.g. {@code inline::llamacpp}), the factory that makes it, and its {@code config:}
     * bound to that factory's record.
     */
    public record Provider(String id, String type, io.corral.spi.ProviderFactory<?, ?> factory, Record config, int line) {
    }

    /**
     * A registered model: its id, the provider that serves it and that provider's name for it; its
     * {@code model_type} (null: as the host reports it) and {@code metadata.embedding_dimension} (0: unknown).
     */
    public record Model(String id, String providerId, String providerModelId, String routing,
                        io.corral.spi.ModelType type, int dimension, int line) {
    }

    public List<Provider> inference() {
        return providers.getOrDefault("inference", List.of());
    }
}

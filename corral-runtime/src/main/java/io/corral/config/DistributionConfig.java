package io.corral.config;

import java.util.List;
import java.util.Map;

/**
 * A distribution, in the spirit of Llama Stack's {@code run.yaml}: server settings, providers per API,
 * and registered models.
 *
 * @param providers per API ({@code inference}, ...), in file order
 * @param urls      the {@code urls:} section: where URLs that requests carry may lead (public addresses only, unless
 *                  {@code allow_private} or {@code allow_hosts} says)
 * @param ignored   the keys of Llama Stack's run.yaml in the file that Corral has no use for
 */
public record DistributionConfig(Server server, Map<String, List<Provider>> providers, List<Model> models,
                                 VectorStores vectorStores, List<Shield> shields, Guardrails guardrails, io.corral.api.UrlPolicy urls,
                                 List<String> ignored) {

    /**
     * A shield, as Llama Stack registers one ({@code shields:}, or {@code registered_resources.shields}): its id, the
     * safety provider that runs it (null: the only one), what it runs there ({@code provider_shield_id}, e.g. a guard
     * model) and its {@code params}.
     */
    public record Shield(String id, String providerId, String providerShieldId, Map<String, Object> params, int line) {
    }

    /**
     * The {@code guardrails:} section: per model id ({@code "*"}: every model without its own entry) the shields on its
     * input and output; {@code window}, the characters of a stream checked at a time; {@code holdBack} (mode
     * {@code hold}, the default) or streaming first (mode {@code stream}).
     */
    public record Guardrails(Map<String, List<List<String>>> models, int window, boolean holdBack, int line) {
        public static final Guardrails NONE = new Guardrails(Map.of(), 200, true, 0);
    }

    /**
     * The {@code vector_stores:} section: Llama Stack's defaults for new stores ({@code default_provider_id},
     * {@code default_embedding_model}), and the knowledge folders ingested at start-up ({@code stores:}, or the
     * section itself as a list).
     */
    public record VectorStores(String defaultProviderId, String defaultEmbeddingModel, List<Folder> stores) {
        public static final VectorStores NONE = new VectorStores(null, null, List.of());
    }

    /**
     * A store kept in step with a folder: new and changed files ingested, removed ones taken out; {@code chunking}
     * null for auto; {@code watch} to follow changes while serving.
     */
    public record Folder(String id, java.nio.file.Path folder, String embeddingModel,
                         io.corral.spi.VectorStores.Chunking chunking, boolean watch, int line) {
    }

    /** The {@code server:} section; {@code tlsCert} and {@code tlsKey} null when it serves plain HTTP. */
    public record Server(String host, int port, boolean allowRemote, List<String> apiKeys, long maxBodyBytes,
                         int maxQueued, String routing, int healthInterval, int idleTimeout,
                         List<String> trustedProxies, int maxInputTokens, java.nio.file.Path tlsCert, java.nio.file.Path tlsKey,
                         RateLimits rateLimits, List<String> adminKeys, int shutdownGrace, Budgets budgets) {
    }

    /** Requests and tokens a period; 0 for no budget. */
    public record Budget(long requests, long tokens) {
    }

    /** {@code server.budgets}: the period ({@code day} or {@code month}, UTC), every key's default, and some keys' own. */
    public record Budgets(String period, Budget defaults, Map<String, Budget> keys) {
    }

    /** Requests and tokens a minute; 0 for no limit. */
    public record Limit(int requestsPerMinute, long tokensPerMinute) {
    }

    /** {@code server.rate_limits}: every key's default, and some keys' own (by the key). */
    public record RateLimits(Limit defaults, Map<String, Limit> keys) {
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

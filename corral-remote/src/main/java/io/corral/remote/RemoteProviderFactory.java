package io.corral.remote;

import io.corral.spi.Api;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ProviderFactory;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/** {@code remote::llamacpp}, {@code remote::ollama}, {@code remote::lmstudio}, {@code remote::mlx}, {@code remote::vllm}, {@code remote::llamastack}, {@code remote::openai}. */
public final class RemoteProviderFactory extends ProviderFactory.Base<RemoteProviderFactory.Config, InferenceProvider> {

    /**
     * Its {@code config:} section.
     *
     * @param baseUrl           the OpenAI-style base ending in {@code /v1}; the preset's default when empty
     * @param url               Llama Stack's spelling: the host's root ({@code http://localhost:11434}), {@code /v1} added
     * @param apiKey            sent as a bearer token ({@code api_token}, Llama Stack's vLLM spelling, is the same)
     * @param priority          higher is tried first among equals
     * @param connectTimeout    seconds to open a connection (2)
     * @param firstTokenTimeout seconds from the request to the answer's start (60)
     * @param idleTimeout       seconds of silence allowed inside an answer (30)
     * @param passthrough       model ids nobody lists are sent here as they are
     * @param command           a managed engine: the command that starts it (split at white space)
     * @param port              the managed engine's port
     * @param readyPath         the path that answers 200 once it is ready ({@code /v1/models})
     * @param startupTimeout    seconds to wait for it (120)
     * @param allowRemote       whether it may listen beyond loopback
     * @param tlsVerify         Llama Stack's key: {@code true} (the default) or the path of a CA certificate (PEM) that
     *                          an {@code https} host's certificate may be signed by; {@code false} is refused, as
     *                          Corral always verifies
     */
    public record Config(String baseUrl, String url, String apiKey, String apiToken, int priority, Double connectTimeout,
                         Double firstTokenTimeout, Double idleTimeout, boolean passthrough, String command, Integer port,
                         String readyPath, Integer startupTimeout, boolean allowRemote, String tlsVerify) {

        public Config {
            if (tlsVerify != null && tlsVerify.strip().equalsIgnoreCase("false")) {
                throw new io.corral.api.InvalidRequestException("tls_verify", "tls_verify: false is not supported: Corral"
                        + " always verifies certificates; name the host's CA certificate (a PEM file) instead");
            }
        }

        /**
         * Keys of Llama Stack's remote inference providers that Corral does not read, accepted with a warning so
         * a Llama Stack run.yaml loads: a default {@code max_tokens} (Corral sends what the request asks),
         * {@code refresh_models} (hosts are probed).
         */
        public static final java.util.Set<String> LLAMA_STACK_UNUSED = java.util.Set.of("max_tokens", "refresh_models");

        /** The same host at {@code base} (a managed engine's address, once it has started). */
        public Config withBaseUrl(String base) {
            return new Config(base, null, apiKey, apiToken, priority, connectTimeout, firstTokenTimeout, idleTimeout,
                    passthrough, command, port, readyPath, startupTimeout, allowRemote, tlsVerify);
        }

        private java.nio.file.Path caFile() {
            return tlsVerify == null || tlsVerify.isBlank() || tlsVerify.strip().equalsIgnoreCase("true") ? null
                    : java.nio.file.Path.of(tlsVerify.strip());
        }

        RemoteConfig remote(String id, Preset preset) {
            String base = baseUrl != null && !baseUrl.isBlank() ? baseUrl
                    : url != null && !url.isBlank() ? v1(url.strip().replaceAll("/+$", "")) : null;
            return new RemoteConfig(id, preset, base, apiKey != null ? apiKey : apiToken, priority,
                    seconds(connectTimeout, 2), seconds(firstTokenTimeout, 60), seconds(idleTimeout, 30), passthrough, caFile());
        }

        private static String v1(String root) {
            return root.endsWith("/v1") ? root : root + "/v1";
        }

        private static Duration seconds(Double s, double fallback) {
            return Duration.ofMillis((long) (1000 * (s == null ? fallback : s)));
        }
    }

    public RemoteProviderFactory() {
        super(Api.INFERENCE, "remote::openai", Config.class);
    }

    @Override
    public boolean supports(String type) {
        return Arrays.stream(Preset.values()).anyMatch(p -> p.type().equals(type));
    }

    @Override
    public List<String> types() {
        return Arrays.stream(Preset.values()).map(Preset::type).toList();
    }

    @Override
    public InferenceProvider create(String id, String type, Config config, Context context) {
        return new OpenAiRemoteProvider(config.remote(id, Preset.byName(type)));
    }
}

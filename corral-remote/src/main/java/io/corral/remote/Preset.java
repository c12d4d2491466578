package io.corral.remote;

/**
 * The engines that speak the OpenAI wire protocol differ only in defaults: where they usually listen,
 * which environment variable lists their hosts, which key they need, how to probe their health.
 */
public enum Preset {
    LLAMACPP("llama.cpp server", "http://127.0.0.1:8080/v1", "LLAMACPP_HOSTS", "/../health", true),
    OLLAMA("Ollama", "http://127.0.0.1:11434/v1", "OLLAMA_HOSTS", "/models", true),
    LMSTUDIO("LM Studio", "http://127.0.0.1:1234/v1", "LMSTUDIO_HOSTS", "/models", true),
    MLX("MLX (mlx_lm.server)", "http://127.0.0.1:8080/v1", "MLX_HOSTS", "/models", true),
    VLLM("vLLM", "http://127.0.0.1:8000/v1", "VLLM_HOSTS", "/models", true),
    LLAMASTACK("Llama Stack", "http://127.0.0.1:8321/v1", "LLAMASTACK_HOSTS", "/health", true),
    OPENAI("OpenAI-compatible cloud", "https://api.openai.com/v1", null, "/models", false);

    public final String vendor;
    public final String defaultBaseUrl;
    /** Comma-separated base URLs of hosts of this kind, or null. */
    public final String hostsVariable;
    /** Path under the base URL that says the host is up ({@code /../health}: the server's root). */
    public final String healthPath;
    public final boolean local;

    Preset(String vendor, String defaultBaseUrl, String hostsVariable, String healthPath, boolean local) {
        this.vendor = vendor;
        this.defaultBaseUrl = defaultBaseUrl;
        this.hostsVariable = hostsVariable;
        this.healthPath = healthPath;
        this.local = local;
    }

    /** The distribution config's provider type, e.g. {@code remote::ollama}. */
    public String type() {
        return "remote::" + name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Preset byName(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT).replace("remote::", "").replace("-", "").replace("_", "");
        for (Preset p : values()) {
            if (p.name().toLowerCase(java.util.Locale.ROOT).equals(n)) {
                return p;
            }
        }
        throw new io.corral.api.InvalidRequestException("provider_type", "unknown remote engine '" + name + "'");
    }
}

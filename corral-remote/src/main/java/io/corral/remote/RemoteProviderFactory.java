package io.corral.remote;

import io.corral.spi.InferenceProvider;
import io.corral.spi.InferenceProviderFactory;

import java.util.Arrays;
import java.util.Map;

/** {@code remote::llamacpp}, {@code remote::ollama}, {@code remote::lmstudio}, {@code remote::mlx}, {@code remote::vllm}, {@code remote::llamastack}, {@code remote::openai}. */
public final class RemoteProviderFactory implements InferenceProviderFactory {

    @Override
    public String type() {
        return "remote::openai";
    }

    @Override
    public boolean supports(String type) {
        return Arrays.stream(Preset.values()).anyMatch(p -> p.type().equals(type));
    }

    @Override
    public InferenceProvider create(String id, Map<String, String> config) {
        Preset preset = Preset.byName(config.getOrDefault("provider_type", type()));
        return new OpenAiRemoteProvider(RemoteConfig.fromMap(id, preset, config));
    }
}

package io.corral.safety.llamaguard;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.SafetyProvider;

/**
 * {@code safety: inline::llama-guard}: {@link LlamaGuard} over the models Corral serves. Llama Stack's keys are
 * Corral's: {@code excluded_categories}; {@code on_error} and {@code format} are Corral's own.
 */
public final class LlamaGuardFactory extends ProviderFactory.Base<LlamaGuard.Config, SafetyProvider> {

    public static final String TYPE = "inline::llama-guard";

    public LlamaGuardFactory() {
        super(Api.SAFETY, TYPE, LlamaGuard.Config.class);
    }

    @Override
    public SafetyProvider create(String id, String type, LlamaGuard.Config config, Context context) {
        if (context.models() == null) {
            throw new IllegalStateException("inline::llama-guard needs the models Corral serves (ProviderFactory.Context.models)");
        }
        return new LlamaGuard(id, config, context.models());
    }
}

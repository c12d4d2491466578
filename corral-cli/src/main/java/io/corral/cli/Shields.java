package io.corral.cli;

import io.corral.config.Distribution;
import io.corral.config.DistributionConfig;
import io.corral.safety.GuardrailConfig;
import io.corral.safety.SafetyService;
import io.corral.safety.rules.RulesShield;
import io.corral.spi.Api;
import io.corral.spi.InferenceProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.ProviderFactory;
import io.corral.spi.SafetyProvider;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What {@code serve} guards with: the config's safety providers, shields and guardrails as a {@link SafetyService}.
 * A config that registers no shield gets the built-in one, {@code rules} ({@code inline::rules} with its defaults),
 * so safety can be tried at once; nothing is guarded unless {@code guardrails:} or a request says so.
 */
final class Shields {

    /** The built-in shield's id (and its provider's). */
    static final String BUILT_IN = "rules";

    private Shields() {
    }

    static SafetyService open(Path configFile, DistributionConfig distribution, Function<String, InferenceProvider> models,
                              KeyValueStore state) {
        ProviderFactory.Context context = ProviderFactory.Context.system().withState(state).withModels(models);
        List<SafetyProvider> providers = new ArrayList<>();
        List<SafetyProvider.Shield> shields = new ArrayList<>();
        DistributionConfig.Guardrails guardrails = DistributionConfig.Guardrails.NONE;
        try {
            if (distribution != null) {
                int i = 0;
                for (DistributionConfig.Provider p : distribution.providers().getOrDefault(Api.SAFETY.section(), List.of())) {
                    providers.add((SafetyProvider) Distribution.create(configFile, p, p.config(), "providers.safety[" + i++ + "]", context));
                }
                distribution.shields().forEach(s -> shields.add(new SafetyProvider.Shield(s.id(), s.providerId(), s.providerShieldId(), s.params())));
                guardrails = distribution.guardrails();
            }
            if (shields.isEmpty()) {
                if (providers.stream().noneMatch(p -> p.id().equals(BUILT_IN))) {
                    providers.add(new RulesShield(BUILT_IN, RulesShield.Config.DEFAULTS));
                }
                shields.add(new SafetyProvider.Shield(BUILT_IN, BUILT_IN, null, Map.of()));
            }
            Map<String, GuardrailConfig.Shields> byModel = new LinkedHashMap<>();
            guardrails.models().forEach((model, io) -> byModel.put(model, new GuardrailConfig.Shields(io.get(0), io.get(1))));
            return new SafetyService(providers, shields, new GuardrailConfig(byModel, guardrails.window(), guardrails.holdBack()), state);
        } catch (RuntimeException e) {
            providers.forEach(SafetyProvider::close);
            throw e;
        }
    }
}

package io.corral.safety.rules;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.SafetyProvider;

/** {@code safety: inline::rules}: {@link RulesShield} with its {@link RulesShield.Config}. */
public final class RulesFactory extends ProviderFactory.Base<RulesShield.Config, SafetyProvider> {

    public static final String TYPE = "inline::rules";

    public RulesFactory() {
        super(Api.SAFETY, TYPE, RulesShield.Config.class);
    }

    @Override
    public SafetyProvider create(String id, String type, RulesShield.Config config, Context context) {
        return new RulesShield(id, config);
    }
}

package io.corral.config;

import io.corral.api.CorralException;
import io.corral.engines.EngineRegistry;
import io.corral.engines.ManagedEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.spi.InferenceProvider;
import io.corral.remote.RemoteProviderFactory;
import io.corral.spi.ProviderFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A distribution config made real: each provider created by the factory its {@code provider_type}
 * names (found with {@link ProviderFactory}), so swapping a provider is a config change; remote hosts
 * from the environment join them; models are registered; everything is discovered once.
 */
public final class Distribution {

    private Distribution() {
    }

    public static EngineRegistry open(Path file, DistributionConfig config, Map<String, String> environment) {
        List<InferenceProvider> local = new ArrayList<>();
        List<OpenAiRemoteProvider> remote = new ArrayList<>(EngineRegistry.hostsFrom(environment));
        List<ManagedEngine> owned = new ArrayList<>();
        ProviderFactory.Context context = new ProviderFactory.Context(environment, ProviderFactory.Context.system().cacheDir());
        int i = 0;
        try {
            for (DistributionConfig.Provider p : config.inference()) {
                String where = "providers.inference[" + i++ + "]";
                Record cfg = p.config();
                if (cfg instanceof RemoteProviderFactory.Config rc && rc.command() != null && !rc.command().isBlank()) {
                    // a managed engine: start it, then talk to it on loopback
                    ManagedEngine engine = managed(file, p, where, rc);
                    owned.add(engine);
                    engine.start();
                    cfg = rc.baseUrl() != null && !rc.baseUrl().isBlank() ? rc : rc.withBaseUrl(engine.baseUrl());
                }
                InferenceProvider provider = (InferenceProvider) create(file, p, cfg, where, context);
                if (provider instanceof OpenAiRemoteProvider r) {
                    remote.add(r);
                } else {
                    local.add(provider);
                }
            }
        } catch (RuntimeException e) {
            local.forEach(InferenceProvider::close);
            owned.forEach(ManagedEngine::close);
            throw e;
        }
        RoutingMode mode;
        try {
            mode = RoutingMode.parse(config.server().routing());
        } catch (CorralException e) {
            throw new ConfigException(file.toString(), 1, "server.routing", e.getMessage());
        }
        EngineRegistry registry = new EngineRegistry(local, remote, new Router.Policy(mode, 3, Duration.ofMillis(50)),
                Ticker.system(), Clock.systemUTC());
        owned.forEach(registry::own);
        for (DistributionConfig.Model m : config.models()) {
            RoutingMode own;
            try {
                own = m.routing() == null ? null : RoutingMode.parse(m.routing());
            } catch (CorralException e) {
                throw new ConfigException(file.toString(), m.line(), "models.routing", e.getMessage());
            }
            registry.alias(new EngineRegistry.Alias(m.id(), m.providerId(), m.providerModelId(), own, m.type(), m.dimension()));
        }
        registry.discover();
        return registry;
    }

    /**
     * Makes provider {@code p} with its factory; what the factory refuses is an error naming the provider's
     * config section and line.
     */
    @SuppressWarnings("unchecked")
    public static Object create(Path file, DistributionConfig.Provider p, Record config, String where, ProviderFactory.Context context) {
        try {
            return ((ProviderFactory<Record, ?>) p.factory()).create(p.id(), p.type(), config, context);
        } catch (CorralException | IllegalArgumentException e) {
            throw new ConfigException(file.toString(), p.line(), where + ".config", e.getMessage());
        }
    }

    /** A managed engine's process: {@code command}, {@code port}, {@code ready_path}, {@code startup_timeout}, {@code allow_remote}. */
    static ManagedEngine managed(Path file, DistributionConfig.Provider p, String where, RemoteProviderFactory.Config c) {
        if (c.port() == null) {
            throw new ConfigException(file.toString(), p.line(), where + ".config.port", "a managed engine (command) needs a port");
        }
        return new ManagedEngine(new ManagedEngine.Spec(p.id(), List.of(c.command().trim().split("\\s+")), c.port(),
                c.readyPath() == null || c.readyPath().isBlank() ? "/v1/models" : c.readyPath(),
                Duration.ofSeconds(c.startupTimeout() == null ? 120 : c.startupTimeout()), c.allowRemote(), Map.of()));
    }
}

package io.corral.config;

import io.corral.api.CorralException;
import io.corral.engines.EngineRegistry;
import io.corral.engines.ManagedEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.spi.InferenceProvider;
import io.corral.spi.InferenceProviderFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * A distribution config made real: each provider created by the factory its {@code provider_type}
 * names (found with {@link ServiceLoader}), so swapping a provider is a config change; remote hosts
 * from the environment join them; models are registered; everything is discovered once.
 */
public final class Distribution {

    private Distribution() {
    }

    public static EngineRegistry open(Path file, DistributionConfig config, Map<String, String> environment) {
        List<InferenceProvider> local = new ArrayList<>();
        List<OpenAiRemoteProvider> remote = new ArrayList<>(EngineRegistry.hostsFrom(environment));
        List<ManagedEngine> owned = new ArrayList<>();
        int i = 0;
        try {
            for (DistributionConfig.Provider p : config.inference()) {
                String where = "providers.inference[" + i++ + "]";
                InferenceProviderFactory factory = InferenceProviderFactory.find(p.type()).orElseThrow(() ->
                        new ConfigException(file.toString(), p.line(), where + ".provider_type", "unknown provider type '"
                                + p.type() + "' (known: " + knownTypes() + ")"));
                InferenceProvider provider;
                try {
                    Map<String, String> cfg = p.config();
                    if (cfg.containsKey("command")) { // a managed engine: start it, then talk to it on loopback
                        ManagedEngine engine = managed(p.id(), cfg);
                        owned.add(engine);
                        engine.start();
                        cfg = new java.util.LinkedHashMap<>(cfg);
                        cfg.putIfAbsent("base_url", engine.baseUrl());
                    }
                    provider = factory.create(p.id(), cfg);
                } catch (CorralException | IllegalArgumentException e) {
                    throw new ConfigException(file.toString(), p.line(), where + ".config", e.getMessage());
                }
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
     * {@code command} (split at white space), {@code port}, {@code ready_path} (default {@code /v1/models}),
     * {@code startup_timeout} in seconds (default 120), {@code allow_remote}.
     */
    static ManagedEngine managed(String id, Map<String, String> cfg) {
        String port = cfg.get("port");
        if (port == null) {
            throw new IllegalArgumentException("a managed engine needs a port");
        }
        return new ManagedEngine(new ManagedEngine.Spec(id, List.of(cfg.get("command").trim().split("\\s+")),
                Integer.parseInt(port.trim()), cfg.getOrDefault("ready_path", "/v1/models"),
                Duration.ofSeconds(Long.parseLong(cfg.getOrDefault("startup_timeout", "120"))),
                Boolean.parseBoolean(cfg.getOrDefault("allow_remote", "false")), Map.of()));
    }

    private static String knownTypes() {
        List<String> types = new ArrayList<>();
        ServiceLoader.load(InferenceProviderFactory.class).forEach(f -> types.add(f.type()));
        types.add("remote::ollama, remote::llamacpp, remote::lmstudio, remote::mlx, remote::vllm, remote::llamastack");
        return String.join(", ", types);
    }
}

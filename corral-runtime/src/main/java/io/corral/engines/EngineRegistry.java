package io.corral.engines;

import io.corral.api.CorralException;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import io.corral.routing.CircuitBreaker;
import io.corral.routing.Router;
import io.corral.routing.Ticker;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * All engines Corral knows: the in-process ones and remote hosts (from the environment's
 * {@code LLAMACPP_HOSTS}, {@code MLX_HOSTS}, {@code OLLAMA_HOSTS}, {@code LMSTUDIO_HOSTS},
 * {@code VLLM_HOSTS}, or added by config). Discovery reads every host's {@code /v1/models} in parallel,
 * each bounded by its connect timeout, so a dead host never blocks start-up. A model served by several
 * engines becomes one model with several runners (a {@link Router}); each is also reachable as
 * {@code <engine-id>/<model>}, pinned to that engine. Health comes from {@link #probeAll()}.
 */
public final class EngineRegistry implements AutoCloseable {

    private final List<InferenceProvider> local;
    private final List<OpenAiRemoteProvider> remotes;
    private final Router.Policy policy;
    private final Ticker ticker;
    private final Clock clock;
    private final Map<String, EngineStatus> status = new ConcurrentHashMap<>();
    private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();
    private volatile Map<String, Router> models = Map.of();
    private final List<Alias> aliases = new ArrayList<>();

    /**
     * A registered model id for one provider's model, with its own routing mode if given, and its type (and an
     * embedding model's dimension) where the config says what the host does not.
     */
    public record Alias(String id, String providerId, String providerModelId, io.corral.routing.RoutingMode mode,
                        io.corral.spi.ModelType type, int dimension) {
        public Alias(String id, String providerId, String providerModelId, io.corral.routing.RoutingMode mode) {
            this(id, providerId, providerModelId, mode, null, 0);
        }
    }

    public EngineRegistry(List<InferenceProvider> local, List<OpenAiRemoteProvider> remotes, Router.Policy policy,
                          Ticker ticker, Clock clock) {
        this.local = List.copyOf(local);
        this.remotes = List.copyOf(remotes);
        this.policy = policy;
        this.ticker = ticker;
        this.clock = clock;
    }

    /** Remote hosts named by the environment variables of every preset that has one. */
    public static List<OpenAiRemoteProvider> hostsFrom(Map<String, String> environment) {
        List<OpenAiRemoteProvider> hosts = new ArrayList<>();
        for (Preset preset : Preset.values()) {
            String list = preset.hostsVariable == null ? null : environment.get(preset.hostsVariable);
            if (list == null || list.isBlank()) {
                continue;
            }
            for (String url : list.split(",")) {
                if (!url.isBlank()) {
                    String base = url.strip().replaceAll("/+$", "");
                    hosts.add(new OpenAiRemoteProvider(RemoteConfig.of(preset, base.endsWith("/v1") ? base : base + "/v1")));
                }
            }
        }
        return hosts;
    }

    /** Reads every remote host's models (in parallel, bounded) and rebuilds the model table. */
    public synchronized void discover() {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Map<OpenAiRemoteProvider, Future<Duration>> probes = new LinkedHashMap<>();
            for (OpenAiRemoteProvider r : remotes) {
                probes.put(r, pool.submit(() -> {
                    long t0 = System.nanoTime();
                    r.discover();
                    return Duration.ofNanos(System.nanoTime() - t0);
                }));
            }
            probes.forEach((r, f) -> record(r, f));
        }
        for (InferenceProvider p : local) {
            status.put(p.id(), new EngineStatus(p.id(), p.type(), null,
                    EngineStatus.Status.UP, 0, null, clock.instant(), p.models()));
        }
        rebuild();
    }

    private void record(OpenAiRemoteProvider r, Future<Duration> f) {
        try {
            Duration took = f.get(r.config().connectTimeout().multipliedBy(3).toMillis() + 500, TimeUnit.MILLISECONDS);
            up(r, took);
        } catch (java.util.concurrent.ExecutionException e) {
            down(r, e.getCause() instanceof CorralException c ? c.getMessage() : String.valueOf(e.getCause()));
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            down(r, "no answer from /v1/models in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Probes every remote host once (the health monitor calls this on its interval). */
    public void probeAll() {
        for (OpenAiRemoteProvider r : remotes) {
            try {
                Duration latency = r.probe();
                EngineStatus before = status.get(r.id());
                if (before != null && before.status() == EngineStatus.Status.DOWN) {
                    breaker(r).success(); // it is back: no need to wait out the breaker's cool-down
                }
                up(r, latency);
            } catch (CorralException e) {
                down(r, e.getMessage());
            }
        }
    }

    private void up(OpenAiRemoteProvider r, Duration latency) {
        probedDown.remove(r.id());
        CircuitBreaker b = breaker(r);
        EngineStatus.Status s = b.state() != CircuitBreaker.State.CLOSED || latency.toMillis() > 2000
                ? EngineStatus.Status.DEGRADED : EngineStatus.Status.UP;
        EngineStatus old = status.get(r.id());
        status.put(r.id(), new EngineStatus(r.id(), r.type(), r.config().baseUrl(), s,
                latency.toMillis(), old == null ? null : old.lastError(), clock.instant(), r.models()));
    }

    private void down(OpenAiRemoteProvider r, String error) {
        probedDown.add(r.id());
        EngineStatus old = status.get(r.id());
        status.put(r.id(), new EngineStatus(r.id(), r.type(), r.config().baseUrl(),
                EngineStatus.Status.DOWN, -1, error, old == null ? null : old.lastSuccess(), r.models()));
    }

    private CircuitBreaker breaker(InferenceProvider p) {
        return breakers.computeIfAbsent(p.id(), k -> new CircuitBreaker(3, Duration.ofSeconds(30), ticker));
    }

    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Something to stop with the registry (a managed engine process). */
    public synchronized void own(AutoCloseable resource) {
        owned.add(resource);
    }

    /** Registers {@code alias.id()} for a provider's model; takes effect at the next {@link #discover()}. */
    public synchronized void alias(Alias alias) {
        aliases.add(alias);
    }

    private void rebuild() {
        Map<String, List<Router.Runner>> runners = new LinkedHashMap<>();
        Map<String, ModelInfo> infos = new LinkedHashMap<>();
        List<InferenceProvider> all = new ArrayList<>(local);
        all.addAll(remotes);
        Map<String, Router> table = new LinkedHashMap<>();
        for (InferenceProvider p : all) {
            for (ModelInfo m : p.models()) {
                Router.Runner runner = new Router.Runner(p, m, breaker(p));
                runners.computeIfAbsent(m.id(), k -> new ArrayList<>()).add(runner);
                infos.putIfAbsent(m.id(), m);
                String pinned = p.id() + "/" + m.id();
                table.put(pinned, new Router(withId(m, pinned), List.of(runner), policy, health));
            }
        }
        runners.forEach((id, list) -> table.put(id, new Router(infos.get(id), list, policy, health)));
        for (Alias a : aliases) {
            all.stream().filter(p -> p.id().equals(a.providerId())).findFirst().ifPresent(p -> {
                ModelInfo found = p.models().stream().filter(m -> m.id().equals(a.providerModelId())).findFirst()
                        .orElse(ModelInfo.llm(a.providerModelId(), p.id(), 0, p.capabilities(), Map.of()));
                ModelInfo upstream = a.type() == null || a.type() == found.type() ? found
                        : new ModelInfo(found.id(), p.id(), a.type(), found.contextLength(), found.dimension(),
                        a.type().capabilities(), found.metadata());
                if (a.dimension() > 0) {
                    upstream = new ModelInfo(upstream.id(), p.id(), upstream.type(), upstream.contextLength(), a.dimension(),
                            upstream.capabilities(), upstream.metadata());
                }
                Router.Policy own = a.mode() == null ? policy : new Router.Policy(a.mode(), policy.maxAttempts(), policy.backoff());
                table.put(a.id(), new Router(upstream.withId(a.id()), List.of(new Router.Runner(p, upstream, breaker(p))), own, health));
            });
        }
        models = table;
    }

    private static ModelInfo withId(ModelInfo m, String id) {
        Map<String, Object> meta = new LinkedHashMap<>(m.metadata());
        meta.put("pinned_to", m.provider());
        return m.withId(id).withMetadata(meta);
    }

    /**
     * Probes every host every {@code interval} in the background (a zero interval turns it off);
     * returns a handle that stops it.
     */
    public AutoCloseable startHealthChecks(Duration interval) {
        if (interval.isZero() || interval.isNegative()) {
            return () -> { };
        }
        var timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("corral-health").factory());
        timer.scheduleWithFixedDelay(() -> {
            try {
                probeAll();
            } catch (RuntimeException e) {
                System.getLogger("corral.engines").log(System.Logger.Level.WARNING, "health check failed", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return timer::shutdownNow;
    }

    /**
     * Health as routing sees it: a host its probe found down is skipped until a probe finds it back; what
     * requests meet shows at once (passive health): a failure makes the host degraded, or down while its
     * breaker is open, with the failure as {@code last_error}; a success makes it up again.
     */
    private final Router.Health health = new Router.Health() {
        @Override
        public boolean healthy(InferenceProvider p) {
            return !probedDown.contains(p.id());
        }

        @Override
        public void succeeded(InferenceProvider p) {
            EngineStatus s = status.get(p.id());
            if (s != null && s.status() != EngineStatus.Status.UP) {
                status.computeIfPresent(p.id(), (id, old) -> new EngineStatus(id, old.provider(), old.baseUrl(),
                        EngineStatus.Status.UP, old.latencyMs(), old.lastError(), clock.instant(), old.models()));
            }
        }

        @Override
        public void failed(InferenceProvider p, RuntimeException e) {
            EngineStatus.Status now = breaker(p).state() == CircuitBreaker.State.OPEN
                    ? EngineStatus.Status.DOWN : EngineStatus.Status.DEGRADED;
            status.computeIfPresent(p.id(), (id, old) -> new EngineStatus(id, old.provider(), old.baseUrl(), now,
                    old.latencyMs(), e.getMessage(), old.lastSuccess(), old.models()));
        }
    };

    /** Hosts whose last probe failed: routing skips them. */
    private final Set<String> probedDown = ConcurrentHashMap.newKeySet();

    /**
     * The router for {@code id}: a known model, or, when hosts are marked {@code passthrough}, a router
     * that sends the id to them as it is; null when nobody serves it. Passthrough routers are made per call,
     * never kept (their runners share each host's breaker), so ids clients invent take no memory.
     */
    public Router resolve(String id) {
        Router known = models.get(id);
        if (known != null) {
            return known;
        }
        List<Router.Runner> pass = remotes.stream().filter(r -> r.config().passthrough())
                .map(r -> new Router.Runner(r, id, breaker(r))).toList();
        if (pass.isEmpty()) {
            return null;
        }
        return new Router(ModelInfo.llm(id, "passthrough", 0,
                pass.getFirst().provider().capabilities(), Map.of("pinned_to", "passthrough")), pass, policy, health);
    }

    /** Every model, by the id requests use: merged ids first, then the engine-pinned ones. */
    public Map<String, Router> models() {
        return models;
    }

    /** The models as providers, for the server: merged ids only (pinned ones are looked up on demand). */
    public List<InferenceProvider> routers() {
        List<InferenceProvider> merged = new ArrayList<>();
        for (Router r : models.values()) {
            if (!r.models().getFirst().metadata().containsKey("pinned_to")) {
                merged.add(r);
            }
        }
        return merged;
    }

    public List<EngineStatus> engines() {
        return new ArrayList<>(status.values());
    }

    /** Each remote host's circuit breaker state, by engine id. */
    public Map<String, CircuitBreaker.State> breakerStates() {
        Map<String, CircuitBreaker.State> states = new LinkedHashMap<>();
        for (OpenAiRemoteProvider r : remotes) {
            states.put(r.id(), breaker(r).state());
        }
        return states;
    }

    public EngineStatus engine(String id) {
        return status.get(id);
    }

    /** All engines' providers (local and remote), to close or list. */
    public List<InferenceProvider> providers() {
        List<InferenceProvider> all = new ArrayList<>(local);
        all.addAll(remotes);
        return all;
    }

    @Override
    public void close() {
        providers().forEach(InferenceProvider::close);
        for (AutoCloseable r : owned) {
            try {
                r.close();
            } catch (Exception e) {
                System.getLogger("corral.engines").log(System.Logger.Level.WARNING, "cannot stop " + r, e);
            }
        }
    }
}

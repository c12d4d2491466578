package io.corral.server.http;

import io.corral.api.ModelNotFoundException;
import io.corral.api.RateLimitedException;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * The models the server serves, each with its provider and an admission bound (the pipeline's admission
 * stage): at most {@code maxInFlight} requests per model run or wait; beyond that,
 * {@link RateLimitedException} (429). Ids nobody lists may go to a passthrough provider; those share one
 * bound and are never remembered, so clients cannot grow the table by inventing ids.
 */
public final class ModelDirectory {

    public record Entry(ModelInfo info, InferenceProvider provider, Semaphore admission) {
    }

    private final int maxInFlight;
    private final Semaphore passthrough;
    private volatile Function<String, InferenceProvider> fallback = id -> null;
    private volatile Map<String, Entry> models = Map.of();
    private volatile List<InferenceProvider> providers = List.of();

    public ModelDirectory(List<InferenceProvider> providers, int maxInFlight) {
        this.maxInFlight = maxInFlight;
        this.passthrough = new Semaphore(maxInFlight);
        reload(providers);
    }

    /** Replaces the table (after a re-discovery); models that stay keep their admission state. */
    public synchronized void reload(List<InferenceProvider> newProviders) {
        Map<String, Entry> table = new LinkedHashMap<>();
        for (InferenceProvider p : newProviders) {
            for (ModelInfo m : p.models()) {
                Entry old = models.get(m.id());
                table.putIfAbsent(m.id(), new Entry(m, p, old != null ? old.admission() : new Semaphore(maxInFlight)));
            }
        }
        models = table;
        providers = List.copyOf(newProviders);
    }

    public List<InferenceProvider> providers() {
        return providers;
    }

    /** The models to list: every one but the engine-pinned aliases ({@code <engine>/<model>}). */
    public List<ModelInfo> list() {
        List<ModelInfo> all = new ArrayList<>(models.values().stream().map(Entry::info)
                .filter(m -> !m.metadata().containsKey("pinned_to")).toList());
        for (String name : unloaded.get()) { // loaded on their first request
            if (all.stream().noneMatch(m -> m.id().equals(name))) {
                // the window it will be served with is known once it is loaded: 0 until then
                all.add(ModelInfo.llm(name, "on-demand", 0, java.util.Set.of(io.corral.spi.Capability.CHAT,
                        io.corral.spi.Capability.COMPLETION), describe.apply(name)));
            }
        }
        return all;
    }

    private java.util.function.Supplier<List<String>> unloaded = List::of;
    private java.util.function.Function<String, java.util.Map<String, Object>> describe = name -> java.util.Map.of();

    /**
     * Names served on demand (pulled models), listed before they are loaded, with what their files say ({@code
     * describe}: the GGUF header's metadata).
     */
    public void unloaded(java.util.function.Supplier<List<String>> names,
                         java.util.function.Function<String, java.util.Map<String, Object>> describe) {
        unloaded = names;
        this.describe = describe;
    }

    /** Where ids nobody lists go (a gateway's passthrough), or null for 404. */
    public void fallback(Function<String, InferenceProvider> f) {
        fallback = f;
    }

    public Entry get(String id) {
        Entry e = models.get(id);
        if (e != null) {
            return e;
        }
        InferenceProvider p = fallback.apply(id);
        if (p == null) {
            throw new ModelNotFoundException("model '" + id + "' not found; GET /v1/models lists the models served");
        }
        return new Entry(p.models().getFirst(), p, passthrough);
    }

    /**
     * Where a listed in-process model runs, for the access log: {@code device=CPU gpu_layers=0/6}; null for a model
     * that does not say (a remote one) or is not listed.
     */
    public String placement(String id) {
        Entry e = models.get(id);
        if (e == null || !(e.info().metadata().get("device") instanceof String device)) {
            return null;
        }
        return "device=" + device.replace(' ', '_') + " gpu_layers=" + e.info().metadata().get("gpu_layers") + "/"
                + e.info().metadata().get("offloadable_layers");
    }

    /** Admits a request for {@code id} or refuses it with 429; close the result when done. */
    public AutoCloseable admit(String id) {
        Entry e = get(id);
        if (!e.admission().tryAcquire()) {
            throw new RateLimitedException("model " + id + " is at capacity; retry later");
        }
        return e.admission()::release;
    }

    /** Requests running or waiting per model, for metrics (the queue depth). */
    public Map<String, Integer> inFlight() {
        Map<String, Integer> m = new LinkedHashMap<>();
        models.forEach((id, e) -> {
            if (!e.info().metadata().containsKey("pinned_to")) {
                m.put(id, maxInFlight - e.admission().availablePermits());
            }
        });
        return m;
    }
}

package io.corral.server;

import io.corral.api.ModelNotFoundException;
import io.corral.api.RateLimitedException;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The models the server serves, each with its provider and an admission bound: at most
 * {@code maxInFlight} requests per model run or wait; beyond that, {@link RateLimitedException} (429).
 */
final class ModelDirectory {

    record Entry(ModelInfo info, InferenceProvider provider, Semaphore admission) {
    }

    private final int maxInFlight;
    private volatile java.util.function.Function<String, InferenceProvider> fallback = id -> null;
    private volatile Map<String, Entry> models = Map.of();
    private volatile List<InferenceProvider> providers = List.of();

    ModelDirectory(List<InferenceProvider> providers, int maxInFlight) {
        this.maxInFlight = maxInFlight;
        reload(providers);
    }

    /** Replaces the table (after a re-discovery); models that stay keep their admission state. */
    synchronized void reload(List<InferenceProvider> newProviders) {
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

    List<InferenceProvider> providers() {
        return providers;
    }

    /** The models to list: every one but the engine-pinned aliases ({@code <engine>/<model>}). */
    List<ModelInfo> list() {
        return new ArrayList<>(models.values().stream().map(Entry::info)
                .filter(m -> !m.metadata().containsKey("pinned_to")).toList());
    }

    /** Where ids nobody lists go (a gateway's passthrough), or null for 404. */
    void fallback(java.util.function.Function<String, InferenceProvider> f) {
        fallback = f;
    }

    Entry get(String id) {
        Entry e = models.get(id);
        if (e == null) {
            InferenceProvider p = fallback.apply(id);
            if (p != null) {
                synchronized (this) {
                    Map<String, Entry> table = new LinkedHashMap<>(models);
                    e = table.computeIfAbsent(id, k -> new Entry(p.models().getFirst(), p, new Semaphore(maxInFlight)));
                    models = table;
                }
                return e;
            }
            throw new ModelNotFoundException("model '" + id + "' not found; GET /v1/models lists the models served");
        }
        return e;
    }

    /** Admits a request for {@code id} or refuses it with 429; close the result when done. */
    AutoCloseable admit(String id) {
        Entry e = get(id);
        if (!e.admission().tryAcquire()) {
            throw new RateLimitedException("model " + id + " is at capacity; retry later");
        }
        return e.admission()::release;
    }
}

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

    private final Map<String, Entry> models = new LinkedHashMap<>();
    private final List<InferenceProvider> providers;

    ModelDirectory(List<InferenceProvider> providers, int maxInFlight) {
        this.providers = List.copyOf(providers);
        for (InferenceProvider p : providers) {
            for (ModelInfo m : p.models()) {
                models.putIfAbsent(m.id(), new Entry(m, p, new Semaphore(maxInFlight)));
            }
        }
    }

    List<InferenceProvider> providers() {
        return providers;
    }

    List<ModelInfo> list() {
        return new ArrayList<>(models.values().stream().map(Entry::info).toList());
    }

    Entry get(String id) {
        Entry e = models.get(id);
        if (e == null) {
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

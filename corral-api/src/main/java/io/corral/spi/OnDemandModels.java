package io.corral.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Models served without being loaded up front, as Ollama serves its models: each is loaded on its first request and
 * unloaded when idle past its keep-alive, within a memory budget. What the server's model routes, Ollama's
 * {@code keep_alive} and {@code /api/ps}, and the admin load and unload routes use.
 */
public interface OnDemandModels {

    /**
     * A loaded model.
     *
     * @param bytes     what it counts against the budget (its file's size)
     * @param expiresAt when it is unloaded if no request comes; null for never (a negative keep-alive)
     * @param inUse     whether requests are running on it (it is not unloaded while they are)
     * @param details   its provider's model metadata (device, layers offloaded, device memory)
     */
    record Loaded(String name, long bytes, Instant expiresAt, boolean inUse, Map<String, Object> details) {
    }

    /** The names that can be loaded (pulled models), loaded or not. */
    List<String> names();

    /**
     * What {@code name}'s file says before it is loaded, in the keys a loaded model's metadata uses (file, file_size,
     * architecture, parameters, quantization, context_length, ...); empty when it is no such model or its file cannot be
     * read.
     */
    default Map<String, Object> describe(String name) {
        return Map.of();
    }

    /**
     * The provider of {@code name}, loading it first if needed (waiting for room in the budget while other models
     * answer); null when it is no such model.
     */
    InferenceProvider get(String name);

    /** The models loaded now, least recently used first. */
    List<Loaded> loaded();

    /**
     * Sets how long {@code name} stays loaded after its last request (Ollama's {@code keep_alive}): null for the
     * default, negative for ever, zero to unload it as soon as no request runs on it. Nothing when it is not loaded.
     */
    void keepAlive(String name, Duration keepAlive);

    /** Unloads {@code name} now if no request runs on it (else when the last ends); false when it is not loaded. */
    boolean unload(String name);
}

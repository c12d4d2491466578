package io.corral.engines;

import io.corral.spi.ModelInfo;

import java.time.Instant;
import java.util.List;

/**
 * What is known of one engine (a host, or the in-process engine).
 *
 * @param status      up, down or degraded (answering, but slowly or after recent failures)
 * @param latencyMs   the last probe's latency, or -1
 * @param lastError   the last failure in words, or null
 * @param lastSuccess when a probe last succeeded, or null
 * @param models      the models it serves, with their types and capabilities
 */
public record EngineStatus(String id, String provider, String baseUrl, Status status, long latencyMs,
                           String lastError, Instant lastSuccess, List<ModelInfo> models) {

    public enum Status { UP, DEGRADED, DOWN }

    public EngineStatus {
        models = List.copyOf(models);
    }
}

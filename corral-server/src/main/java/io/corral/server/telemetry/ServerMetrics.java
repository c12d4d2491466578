package io.corral.server.telemetry;

import io.corral.engines.EngineRegistry;
import io.corral.engines.EngineStatus;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Request;
import io.corral.server.http.RequestListener;
import io.corral.telemetry.MetricRegistry;

/**
 * The server's metrics, recorded for every request the pipeline finishes: requests by route, method,
 * status and model; latency and time-to-first-token histograms; tokens in and out; and, read when
 * scraped, the queue depth per model and each engine's health and breaker state.
 */
public final class ServerMetrics implements RequestListener {

    private final MetricRegistry registry = new MetricRegistry();
    private final MetricRegistry.Counter requests = registry.counter("corral_http_requests_total",
            "HTTP requests answered, by route pattern, method, status and model.", "route", "method", "status", "model");
    private final MetricRegistry.Histogram latency = registry.histogram("corral_http_request_duration_seconds",
            "Time from a request read whole to its answer's last byte.", MetricRegistry.LATENCY_BUCKETS, "route", "method");
    private final MetricRegistry.Histogram firstToken = registry.histogram("corral_time_to_first_token_seconds",
            "Time from a generation request read whole to its first token sent.", MetricRegistry.LATENCY_BUCKETS, "model");
    private final MetricRegistry.Counter tokens = registry.counter("corral_tokens_total",
            "Tokens read (input) and generated (output), by model.", "model", "type");

    private final MetricRegistry.Counter shieldChecks = registry.counter("corral_shield_checks_total",
            "Shield checks, by shield, stage (input, output, run, moderation) and outcome (passed, blocked, error).",
            "shield", "stage", "outcome");
    private final MetricRegistry.Histogram shieldLatency = registry.histogram("corral_shield_check_duration_seconds",
            "Time one shield check took, by shield and stage.", MetricRegistry.LATENCY_BUCKETS, "shield", "stage");

    public ServerMetrics(ModelDirectory models, EngineRegistry engines) {
        registry.gauge("corral_queue_depth", "Requests running or waiting for an engine slot, by model.",
                sink -> models.inFlight().forEach((model, n) -> sink.set(n, model)), "model");
        if (engines != null) {
            registry.gauge("corral_engine_status", "Each engine's health: 1 for its current status, 0 for the others.",
                    sink -> engines.engines().forEach(e -> {
                        for (EngineStatus.Status s : EngineStatus.Status.values()) {
                            sink.set(e.status() == s ? 1 : 0, e.id(), s.name().toLowerCase());
                        }
                    }), "engine", "status");
            registry.gauge("corral_breaker_state", "Each remote engine's circuit breaker: 0 closed, 1 half-open, 2 open.",
                    sink -> engines.breakerStates().forEach((id, state) -> sink.set(switch (state) {
                        case CLOSED -> 0;
                        case HALF_OPEN -> 1;
                        case OPEN -> 2;
                    }, id)), "engine");
        }
    }

    @Override
    public void finished(Request r, int status) {
        String route = r.route() == null ? "unmatched" : r.route();
        String model = r.model() == null ? "" : r.model();
        requests.inc(route, r.method(), Integer.toString(status), model);
        latency.observe((System.nanoTime() - r.startNanos()) / 1e9, route, r.method());
        if (r.firstTokenNanos() != 0) {
            firstToken.observe((r.firstTokenNanos() - r.startNanos()) / 1e9, model);
        }
        if (r.promptTokens() >= 0) {
            tokens.add(r.promptTokens(), model, "input");
            tokens.add(Math.max(0, r.completionTokens()), model, "output");
        }
    }

    private final MetricRegistry.Counter batchRequests = registry.counter("corral_batch_requests_total",
            "Requests of batches answered, by endpoint, status and model.", "endpoint", "status", "model");

    /**
     * Counts one of a batch's requests, its tokens with the port's (models come from the line; one no model serves is
     * counted under "" so a batch of made-up names cannot grow the label set).
     */
    public void batchRequest(String endpoint, String model, int status, long promptTokens, long completionTokens) {
        String m = status == 404 ? "" : model;
        batchRequests.inc(endpoint, Integer.toString(status), m);
        if (promptTokens >= 0) {
            tokens.add(promptTokens, m, "input");
            tokens.add(Math.max(0, completionTokens), m, "output");
        }
    }

    /** Counts one shield check (shield ids are registered ones: a bounded set). */
    public void shieldCheck(io.corral.spi.Safety.Check c) {
        shieldChecks.inc(c.shieldId(), c.stage(), c.outcome());
        shieldLatency.observe(c.nanos() / 1e9, c.shieldId(), c.stage());
    }

    /** The Prometheus text format. */
    public String scrape() {
        return registry.write();
    }
}

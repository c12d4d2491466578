package io.corral.server.telemetry;

import io.corral.server.http.Routes;

import java.nio.charset.StandardCharsets;

/** {@code GET /metrics}: the server's metrics in the Prometheus text format. */
public final class TelemetryApi implements Routes.Api {

    private final ServerMetrics metrics;

    public TelemetryApi(ServerMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void routes(Routes r) {
        r.get("/metrics", (req, res) -> res.send(200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.scrape().getBytes(StandardCharsets.UTF_8)));
    }
}

package io.corral.telemetry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricRegistryTest {

    @Test
    void countersHistogramsAndGauges_areWrittenInTheTextFormat() {
        MetricRegistry r = new MetricRegistry();
        MetricRegistry.Counter c = r.counter("t_requests_total", "Requests.", "route", "status");
        MetricRegistry.Histogram h = r.histogram("t_latency_seconds", "Latency.", new double[]{0.1, 1}, "route");
        r.gauge("t_depth", "Depth.", sink -> sink.set(3, "m\"1"), "model");
        c.inc("/v1/models", "200");
        c.inc("/v1/models", "200");
        c.add(0.5, "/x", "404");
        h.observe(0.05, "/a");
        h.observe(0.5, "/a");
        h.observe(7, "/a");
        String text = r.write();
        assertThat(text).contains("# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n")
                .contains("t_requests_total{route=\"/v1/models\",status=\"200\"} 2\n")
                .contains("t_requests_total{route=\"/x\",status=\"404\"} 0.5\n")
                .contains("# TYPE t_latency_seconds histogram\n")
                .contains("t_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n")
                .contains("t_latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n")
                .contains("t_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n")
                .contains("t_latency_seconds_sum{route=\"/a\"} 7.55\n")
                .contains("t_latency_seconds_count{route=\"/a\"} 3\n")
                .contains("t_depth{model=\"m\\\"1\"} 3\n");
    }

    @Test
    void aMetricKeepsBoundedSeries_therestCountAsOther() {
        MetricRegistry r = new MetricRegistry();
        MetricRegistry.Counter c = r.counter("t_total", "T.", "model");
        for (int i = 0; i < MetricRegistry.MAX_SERIES + 100; i++) {
            c.inc("model-" + i);
        }
        String text = r.write();
        assertThat(text.lines().filter(l -> l.startsWith("t_total{"))).hasSize(MetricRegistry.MAX_SERIES + 1);
        assertThat(text).contains("t_total{model=\"other\"} 100\n");
    }

    @Test
    void misuse_failsFast() {
        MetricRegistry r = new MetricRegistry();
        r.counter("t_total", "T.", "a");
        assertThatThrownBy(() -> r.counter("t_total", "again")).hasMessageContaining("twice");
        assertThatThrownBy(() -> r.counter("bad-name", "x")).hasMessageContaining("not a Prometheus metric name");
        assertThatThrownBy(() -> r.counter("t2_total", "x", "a").inc("1", "2")).hasMessageContaining("takes 1 label values");
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.server.http.Json;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /metrics} scraped by a real Prometheus (Debian's package; {@code ./build test} installs it when
 * missing), then read back through Prometheus's own query API.
 */
class PrometheusScrapeTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String prometheus() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "prometheus"))) {
                return Path.of(dir, "prometheus").toString();
            }
        }
        throw new AssertionError("prometheus is not installed (apt-get install prometheus; ./build test does it)");
    }

    @Test
    void aRealPrometheus_scrapesRequestCountsTokensAndQueueDepth(@TempDir Path dir) throws Exception {
        try (CorralServer s = CorralServer.start(ServerConfig.defaults().withPort(0).withApiKeys(List.of("scrape-key")),
                List.of(ScriptedProvider.chat("p", "m").then(ScriptedProvider.answer("a", "b", "c"))))) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                        .header("Authorization", "Bearer scrape-key")
                        .POST(HttpRequest.BodyPublishers.ofString(PipelineTest.STREAM)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            }
            int promPort = freePort();
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global: {scrape_interval: 1s}
                    scrape_configs:
                      - job_name: corral
                        authorization: {credentials: scrape-key}
                        static_configs: [{targets: ['127.0.0.1:%d']}]
                    """.formatted(s.port()));
            Process prom = new ProcessBuilder(prometheus(), "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + promPort).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                JsonNode requests = query(promPort, "corral_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}");
                assertThat(requests.path("value").get(1).asText()).as(() -> log(dir)).isEqualTo("3");
                assertThat(requests.path("metric").path("model").asText()).isEqualTo("m");
                assertThat(requests.path("metric").path("method").asText()).isEqualTo("POST");
                assertThat(query(promPort, "corral_tokens_total{model=\"m\",type=\"output\"}").path("value").get(1).asText())
                        .isEqualTo("9");
                assertThat(query(promPort, "corral_time_to_first_token_seconds_count{model=\"m\"}").path("value").get(1).asText())
                        .isEqualTo("3");
                assertThat(query(promPort, "corral_queue_depth{model=\"m\"}").path("value").get(1).asText()).isEqualTo("0");
            } finally {
                prom.destroy();
                prom.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The first series of an instant query, once Prometheus has scraped it (within 60 s). */
    static JsonNode query(int port, String promql) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) { // while starting it answers 503 "Service Unavailable", not JSON
                    JsonNode result = Json.parse(r.body().getBytes(StandardCharsets.UTF_8)).path("data").path("result");
                    if (!result.isEmpty()) {
                        return result.get(0);
                    }
                }
            } catch (java.io.IOException notUpYet) {
                // Prometheus is still starting
            }
            Thread.sleep(200); // waiting on another process's scrape interval, not ordering our own threads
        }
        throw new AssertionError("Prometheus never returned " + promql);
    }

    static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (Exception e) {
            return "(no log)";
        }
    }
}

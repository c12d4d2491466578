package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.corral.api.UnavailableException;
import io.corral.routing.CircuitBreaker;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.server.http.Json;
import io.corral.spi.ModelInfo;
import io.corral.telemetry.Telemetry;
import io.corral.telemetry.TelemetryConfig;
import io.corral.testing.ScriptedProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.fail;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Traces of one request, exported over OTLP/HTTP to a receiver that decodes the real protobuf payload,
 * and queried back through Llama Stack's telemetry routes from the built-in store.
 */
class TracingTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String CALLER_SPAN = "00f067aa0ba902b7";

    HttpServer receiver;
    final List<Span> received = new CopyOnWriteArrayList<>();
    final List<String> paths = new CopyOnWriteArrayList<>();
    Telemetry telemetry;
    CorralServer server;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", ex -> {
            paths.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Content-Type"));
            ExportTraceServiceRequest export = ExportTraceServiceRequest.parseFrom(ex.getRequestBody().readAllBytes());
            export.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> received.addAll(ss.getSpansList())));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        TelemetryConfig config = TelemetryConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + receiver.getAddress().getPort(),
                "OTEL_SERVICE_NAME", "corral-test"), dir.resolve("traces.db")).with(Map.of("sinks", "otel_trace, sqlite"));
        telemetry = Telemetry.start(config);
        ScriptedProvider down = ScriptedProvider.chat("down", "m").then(fail(new UnavailableException("connection refused")));
        ScriptedProvider up = ScriptedProvider.chat("up", "m").then(answer("zebra", " stripes"));
        Router router = new Router(ModelInfo.llm("m", "router", 0, Set.of(), Map.of()), List.of(
                new Router.Runner(down, "m", new CircuitBreaker(3, Duration.ofSeconds(30), () -> 0)),
                new Router.Runner(up, "m", new CircuitBreaker(3, Duration.ofSeconds(30), () -> 0))),
                new Router.Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ZERO), p -> true);
        server = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of("sk-tracing-secret-1", "sk-tracing-other-2")))
                .providers(List.of(router)).telemetry(telemetry).start();
    }

    @AfterEach
    void stop() {
        server.close();
        telemetry.close();
        receiver.stop(0);
    }

    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .header("Authorization", "Bearer sk-tracing-secret-1").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parse(r.body().getBytes(StandardCharsets.UTF_8));
    }

    static String hex(com.google.protobuf.ByteString b) {
        return HexFormat.of().formatHex(b.toByteArray());
    }

    static String attr(Span s, String key) {
        for (KeyValue kv : s.getAttributesList()) {
            if (kv.getKey().equals(key)) {
                var v = kv.getValue();
                return v.hasStringValue() ? v.getStringValue() : v.hasIntValue() ? Long.toString(v.getIntValue())
                        : v.hasDoubleValue() ? Double.toString(v.getDoubleValue()) : Boolean.toString(v.getBoolValue());
            }
        }
        return null;
    }

    Span named(String name) {
        return received.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError("no span " + name + " in " + received.stream().map(Span::getName).toList()));
    }

    @Test
    void aRequest_isOneTrace_ofItsAttemptsAndGeneration_exportedOverOtlp() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"m\",\"stream\":true,\"metadata\":{\"session\":\"s1\"},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"a purple elephant\"}]}",
                "traceparent", "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01", "baggage", "run_id=r1");
        assertThat(r.body()).contains("zebra");
        // the request's span ends once its answer is written, which the client may see first: export until it is in
        long deadline = System.nanoTime() + 10_000_000_000L;
        do {
            telemetry.flush();
        } while (received.stream().noneMatch(s -> s.getName().equals("POST /v1/chat/completions")) && System.nanoTime() < deadline);
        assertThat(paths).isNotEmpty().allMatch(p -> p.equals("/v1/traces application/x-protobuf"));

        Span request = named("POST /v1/chat/completions");
        assertThat(request.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(hex(request.getTraceId())).isEqualTo(TRACE_ID);           // the caller's trace continues
        assertThat(hex(request.getParentSpanId())).isEqualTo(CALLER_SPAN);
        assertThat(attr(request, "run_id")).isEqualTo("r1");                 // from baggage
        assertThat(attr(request, "session")).isEqualTo("s1");                // from metadata
        assertThat(attr(request, "http.response.status_code")).isEqualTo("200");
        assertThat(attr(request, "gen_ai.usage.output_tokens")).isEqualTo("2");

        List<Span> attempts = received.stream().filter(s -> s.getName().equals("corral.router.attempt"))
                .sorted(java.util.Comparator.comparingLong(Span::getStartTimeUnixNano)).toList();
        assertThat(attempts).hasSize(2);
        assertThat(attempts).allMatch(a -> a.getParentSpanId().equals(request.getSpanId()));
        assertThat(attr(attempts.get(0), "corral.runner")).isEqualTo("down");
        assertThat(attr(attempts.get(0), "corral.outcome")).isEqualTo("failed");
        assertThat(attempts.get(0).getStatus().getCode()).isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(attr(attempts.get(1), "corral.runner")).isEqualTo("up");
        assertThat(attr(attempts.get(1), "corral.attempt")).isEqualTo("2");
        assertThat(attr(attempts.get(1), "corral.outcome")).isEqualTo("served");

        Span generation = received.stream().filter(s -> s.getName().equals("chat m") && s.getParentSpanId().equals(attempts.get(1).getSpanId()))
                .findFirst().orElseThrow();
        assertThat(attr(generation, "gen_ai.operation.name")).isEqualTo("chat");
        assertThat(attr(generation, "gen_ai.request.model")).isEqualTo("m");
        assertThat(attr(generation, "gen_ai.usage.input_tokens")).isEqualTo("3");
        assertThat(attr(generation, "gen_ai.usage.output_tokens")).isEqualTo("2");
        assertThat(attr(generation, "corral.time_to_first_token_ms")).isNotNull();

        for (Span s : received) { // the request's span encloses every other span of it
            assertThat(hex(s.getTraceId())).isEqualTo(TRACE_ID);
            assertThat(s.getStartTimeUnixNano()).isGreaterThanOrEqualTo(request.getStartTimeUnixNano());
            assertThat(s.getEndTimeUnixNano()).isLessThanOrEqualTo(request.getEndTimeUnixNano());
            for (KeyValue kv : s.getAttributesList()) { // no prompt, no answer, no key
                assertThat(kv.getValue().toString()).doesNotContain("elephant", "zebra", "sk-tracing-secret-1");
            }
        }
        assertThat(received).hasSize(5);
    }

    @Test
    void contentIsOnTheSpan_onlyWithTheContentSwitch_andKeysRedacted() throws Exception {
        try (CorralServer logging = CorralServer.builder(ServerConfig.defaults().withPort(0).withContentLogging(true)
                .withApiKeys(List.of("sk-tracing-secret-1"))).providers(List.of(ScriptedProvider.chat("p", "m").then(answer("zebra")))).telemetry(telemetry).start()) {
            HTTP.send(HttpRequest.newBuilder(URI.create(logging.url() + "/v1/chat/completions"))
                    .header("Authorization", "Bearer sk-tracing-secret-1").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"elephant sk-tracing-secret-1\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
        telemetry.flush();
        Span request = named("POST /v1/chat/completions");
        assertThat(attr(request, "gen_ai.input.messages")).contains("elephant").doesNotContain("sk-tracing-secret-1").contains("[redacted]");
        assertThat(attr(request, "gen_ai.output.messages")).contains("zebra");
    }

    @Test
    void aRun_isFoundByItsAttribute_throughLlamaStacksTelemetryRoutes() throws Exception {
        post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "baggage", "run_id=r1");
        post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "baggage", "run_id=r2");
        JsonNode traces = json(post("/v1/telemetry/traces",
                "{\"attribute_filters\":[{\"key\":\"run_id\",\"op\":\"eq\",\"value\":\"r1\"}],\"limit\":10,\"order_by\":[\"start_time\"]}"))
                .path("data");
        assertThat(traces).hasSize(1);
        String traceId = traces.get(0).path("trace_id").asText();
        String root = traces.get(0).path("root_span_id").asText();
        assertThat(traces.get(0).path("start_time").asText()).endsWith("Z");
        assertThat(json(post("/v1/telemetry/traces", "{\"attribute_filters\":[{\"key\":\"run_id\",\"op\":\"eq\",\"value\":\"r3\"}]}"))
                .path("data")).isEmpty();
        assertThat(json(post("/v1/telemetry/traces", "{\"attribute_filters\":[{\"key\":\"corral.runner\",\"op\":\"eq\",\"value\":\"up\"}]}"))
                .path("data")).hasSize(2); // a trace is found by an attribute on any of its spans

        HttpResponse<String> got = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/telemetry/traces/" + traceId))
                .header("Authorization", "Bearer sk-tracing-secret-1").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(json(got).path("root_span_id").asText()).isEqualTo(root);
        HttpResponse<String> span = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/telemetry/traces/" + traceId
                + "/spans/" + root)).header("Authorization", "Bearer sk-tracing-secret-1").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(json(span).path("name").asText()).isEqualTo("POST /v1/chat/completions");
        assertThat(json(span).path("attributes").path("run_id").asText()).isEqualTo("r1");

        JsonNode tree = json(post("/v1/telemetry/spans/" + root + "/tree", "{\"attributes_to_return\":[\"corral.runner\"]}")).path("data");
        assertThat(tree).hasSize(5);
        assertThat(tree.path(root).path("status").asText()).isEqualTo("ok");
        assertThat(tree.path(root).path("attributes")).isEmpty(); // only what was asked for
        assertThat(json(post("/v1/telemetry/spans/" + root + "/tree", "{\"max_depth\":1}")).path("data")).hasSize(3);

        JsonNode failed = json(post("/v1/telemetry/spans", "{\"attribute_filters\":[{\"key\":\"corral.outcome\",\"op\":\"eq\","
                + "\"value\":\"failed\"}],\"attributes_to_return\":[\"corral.runner\"]}")).path("data");
        assertThat(failed).hasSize(2);
        assertThat(failed.get(0).path("attributes").path("corral.runner").asText()).isEqualTo("down");

        HttpResponse<String> bad = post("/v1/telemetry/traces", "{\"attribute_filters\":[{\"key\":\"run_id\",\"op\":\"like\",\"value\":\"r\"}]}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("attribute_filters");
    }

    /** Traces have an owner: another key finds none of them, by query or by id. */
    @Test
    void anotherKey_neverSeesATrace() throws Exception {
        post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "baggage", "run_id=mine");
        String query = "{\"attribute_filters\":[{\"key\":\"run_id\",\"op\":\"eq\",\"value\":\"mine\"}]}";
        JsonNode mine = json(post("/v1/telemetry/traces", query)).path("data");
        assertThat(mine).hasSize(1);
        String traceId = mine.get(0).path("trace_id").asText();
        String root = mine.get(0).path("root_span_id").asText();
        java.util.function.BiFunction<String, String, HttpResponse<String>> other = (path, body) -> {
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path)).header("Authorization", "Bearer sk-tracing-other-2");
                return HTTP.send((body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body))).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        assertThat(json(other.apply("/v1/telemetry/traces", query)).path("data")).isEmpty();
        assertThat(json(other.apply("/v1/telemetry/traces", "{}")).path("data").toString()).doesNotContain(traceId);
        assertThat(json(other.apply("/v1/telemetry/spans", query)).path("data")).isEmpty();
        assertThat(other.apply("/v1/telemetry/traces/" + traceId, null).statusCode()).isEqualTo(404);
        assertThat(other.apply("/v1/telemetry/traces/" + traceId + "/spans/" + root, null).statusCode()).isEqualTo(404);
        assertThat(other.apply("/v1/telemetry/spans/" + root + "/tree", "{}").statusCode()).isEqualTo(404);
        assertThat(json(post("/v1/telemetry/spans", query)).path("data")).hasSize(1); // its owner still does
    }
}

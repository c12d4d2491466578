package io.corral.cli;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.OpenApi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every JSON route of a whole {@code corral serve} (in this JVM, so Jazzer's coverage sees the server's code), fuzzed from
 * the OpenAPI document's examples (the official SDKs' request shapes): a route is picked, its path parameters are real
 * ids or fuzzed text, and its body is the example as it is, the example with fields replaced, dropped or added, or raw
 * bytes. The rule, for every request: no 5xx, an answer within the client's timeout (no hang), a JSON error body on every
 * 4xx, and a 400 for a body that is one JSON object (the example mutated, or raw bytes that still parse as one)
 * names the field at fault ({@code param}). After the run, no thread is left behind.
 * <p>
 * {@code ./build test} replays the inputs kept under {@code src/test/resources/.../ApiFuzzTestInputs/routes} (the first
 * findings, fixed; an input's meaning follows the route table, so each is also spelled out in
 * {@link #theFuzzersFindings_stayFixed}) and runs the bounded fuzzing below ({@code JAZZER_FUZZ=1}, its own surefire execution); {@code routesLong} is the
 * longer run on demand ({@code scripts/fuzz.sh}).
 */
class ApiFuzzTest {

    /** Routes that reach outside this machine or write where a request says: not for a fuzzer. */
    static final Set<String> LEFT_OUT = Set.of("POST /v1/admin/backup", "POST /api/pull", "POST /v1/admin/models/pull");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    record Op(String method, String pattern, JsonNode example) {
    }

    static ServeCommand.Served served;
    static String base;
    static final List<Op> OPS = new ArrayList<>();
    static final List<String> IDS = new ArrayList<>();
    static int threadsBefore;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("corral-fuzz");
        System.setProperty("corral.cache", dir.resolve("cache").toString());
        ServeCommand serve = new ServeCommand();
        new picocli.CommandLine(serve).parseArgs("--port", "0", "--threads", "1", "--health-interval", "0", "--shutdown-grace", "1");
        served = serve.start();
        base = served.server().url();
        JsonNode doc = JSON.readTree(send("GET", "/v1/openapi.json", null).body());
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> p = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ms = p.getValue().fields(); ms.hasNext(); ) {
                Map.Entry<String, JsonNode> m = ms.next();
                String method = m.getKey().toUpperCase(java.util.Locale.ROOT);
                if (!LEFT_OUT.contains(method + " " + p.getKey())) {
                    OPS.add(new Op(method, p.getKey(), m.getValue().at("/requestBody/content/application~1json/examples/sdk/value")));
                }
            }
        }
        // real ids, so paths with parameters reach past "not found"
        IDS.add(id(send("POST", "/v1/vector_stores", "{\"name\":\"fuzz\"}")));
        IDS.add(id(send("POST", "/v1/conversations", "{}")));
        IDS.add(id(send("POST", "/v1/responses", "{\"model\":\"stories260K\",\"input\":\"Once\",\"max_output_tokens\":4}")));
        String agent = JSON.readTree(send("POST", "/v1/agents", "{\"agent_config\":{\"model\":\"stories260K\",\"instructions\":\"x\"}}").body())
                .path("agent_id").asText();
        IDS.add(agent);
        IDS.add(JSON.readTree(send("POST", "/v1/agents/" + agent + "/session", "{\"session_name\":\"s\"}").body()).path("session_id").asText());
        IDS.add("stories260K");
        IDS.add("injection");
        IDS.removeIf(String::isEmpty);
        threadsBefore = Thread.getAllStackTraces().size();
    }

    static String id(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("id").asText();
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    static HttpResponse<String> send(String method, String path, byte[] body, String contentType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An upload as the SDKs send it ({@code file} and {@code purpose}), with fuzzed parts, a part left out, or bytes. */
    static byte[] multipart(FuzzedDataProvider data, String boundary) {
        StringBuilder b = new StringBuilder();
        int shape = data.consumeInt(0, 3);
        if (shape == 3) {
            return data.consumeRemainingAsBytes();
        }
        if (shape != 1) {
            b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n")
                    .append(data.consumeBoolean() ? "assistants" : data.consumeString(20)).append("\r\n");
        }
        if (shape != 2) {
            b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
                    .append(data.consumeBoolean() ? "notes.md" : data.consumeString(30)).append("\"\r\nContent-Type: ")
                    .append(data.consumeBoolean() ? "text/markdown" : data.consumeString(20)).append("\r\n\r\n")
                    .append(data.consumeString(2000)).append("\r\n");
        }
        b.append("--").append(boundary).append(data.consumeBoolean() ? "--\r\n" : "");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * No thread left behind: once the requests are answered, the JVM's live threads come back to what they were before
     * the first (a few more allowed for pools that grow to their size: Netty's event loops, the JDK client's).
     */
    @AfterAll
    static void stop() throws Exception {
        try {
            int now = Thread.getAllStackTraces().size();
            for (long deadline = System.nanoTime() + 10_000_000_000L; now > threadsBefore + 12 && System.nanoTime() < deadline; ) {
                Thread.sleep(100); // polling a condition with a deadline, not ordering
                now = Thread.getAllStackTraces().size();
            }
            System.out.println("ApiFuzzTest: live threads " + threadsBefore + " before the requests, " + now + " after");
            assertThat(now).as("live threads after the requests (before: %d)", threadsBefore).isLessThanOrEqualTo(threadsBefore + 12);
        } finally {
            served.close();
        }
    }

    @Test
    void theDocumentDescribesEveryRoute_andEveryJsonRouteHasAnExample() throws Exception {
        JsonNode doc = JSON.readTree(send("GET", "/v1/openapi.json", null).body());
        ObjectNode ops = OpenApi.operations();
        List<String> routes = new ArrayList<>();
        for (JsonNode r : JSON.readTree(send("GET", "/v1/inspect/routes", null).body()).path("data")) {
            routes.add(r.path("method").get(0).asText() + " " + r.path("route").asText());
        }
        List<String> described = new ArrayList<>();
        ops.fieldNames().forEachRemaining(described::add);
        assertThat(described).containsExactlyInAnyOrderElementsOf(routes); // the operations file and the server agree
        assertThat(doc.path("openapi").asText()).isEqualTo("3.1.0");
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' ')).toLowerCase(java.util.Locale.ROOT);
            String path = route.substring(route.indexOf(' ') + 1);
            JsonNode op = doc.path("paths").path(path).path(method);
            assertThat(op.path("summary").asText()).as(route).isNotBlank().isNotEqualTo(route);
            if (method.equals("post") && !ops.path(route).path("no_body").asBoolean() && !ops.path(route).path("multipart").asBoolean()) {
                assertThat(op.at("/requestBody/content/application~1json/examples/sdk/value").isObject()).as(route).isTrue();
            }
        }
        assertThat(doc.at("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/required"))
                .extracting(JsonNode::asText).containsExactly("model", "messages");
        assertThat(doc.at("/paths/~1v1~1vector_stores~1{vector_store_id}~1search/post/parameters/0/name").asText()).isEqualTo("vector_store_id");
    }

    /** What the fuzzer found, replayed as it was found (each was a 500 before its fix). */
    @Test
    void theFuzzersFindings_stayFixed() throws Exception {
        HttpResponse<String> controlChar = send("GET", "/v1/models/%06%00H", null); // a model id no file can be named by
        assertThat(controlChar.statusCode()).isEqualTo(404);
        HttpResponse<String> notAnItem = send("POST", "/v1/conversations/" + IDS.get(1) + "/items", "{\"items\":[\"\"]}");
        assertThat(notAnItem.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(notAnItem.body()).at("/error/param").asText()).isEqualTo("items[0]");
        HttpResponse<String> modelNotText = send("POST", "/v1/responses", "{\"model\":true,\"input\":\"x\"}");
        assertThat(modelNotText.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(modelNotText.body()).at("/error/param").asText()).isEqualTo("model");
        HttpResponse<String> badKey = send("POST", "/v1/telemetry/spans",
                "{\"attribute_filters\":[{\"key\":\"\\u0000\\u0000\",\"op\":\"eq\",\"value\":\"r1\"}],\"attributes_to_return\":[\"run_id\"]}");
        assertThat(badKey.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(badKey.body()).at("/error/param").asText()).isEqualTo("attribute_filters");
        HttpResponse<String> noSuchModel = send("POST", "/v1/responses", "{\"model\":\"" + "x".repeat(5000) + "\",\"input\":\"x\"}");
        assertThat(noSuchModel.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(noSuchModel.body()).at("/error/param").asText()).isEqualTo("model");
    }

    @FuzzTest(maxDuration = "60s")
    void routes(FuzzedDataProvider data) throws Exception {
        request(data);
    }

    @FuzzTest(maxDuration = "30m")
    void routesLong(FuzzedDataProvider data) throws Exception {
        request(data);
    }

    static void request(FuzzedDataProvider data) throws Exception {
        Op op = OPS.get(data.consumeInt(0, OPS.size() - 1));
        StringBuilder path = new StringBuilder();
        for (String segment : op.pattern().substring(1).split("/")) {
            path.append('/');
            if (segment.startsWith("{")) {
                path.append(data.consumeBoolean() ? IDS.get(data.consumeInt(0, IDS.size() - 1))
                        : URLEncoder.encode(data.consumeString(40), StandardCharsets.UTF_8).replace("+", "%20"));
            } else {
                path.append(segment);
            }
        }
        if (op.method().equals("POST") && op.pattern().equals("/v1/files")) {
            String boundary = data.consumeBoolean() ? "corral-fuzz" : data.consumeString(70).replaceAll("[^A-Za-z0-9'()+_,./:=?-]", "") + "b";
            HttpResponse<String> r = send("POST", path.toString(), multipart(data, boundary), "multipart/form-data; boundary=" + boundary);
            assertThat(r.statusCode()).as("upload -> %d %s", r.statusCode(), cut(r.body())).isLessThan(500);
            return;
        }
        String body = null;
        String field = null;
        if (!op.method().equals("GET")) {
            int shape = data.consumeInt(0, 3);
            if (shape == 3 || op.example().isMissingNode()) {
                body = data.consumeRemainingAsString();
            } else {
                JsonNode example = op.example().deepCopy();
                if (shape > 0) {
                    field = mutate(example, data);
                }
                body = JSON.writeValueAsString(example);
            }
        }
        HttpResponse<String> r = send(op.method(), path.toString(), body);
        String what = op.method() + " " + path + " " + cut(body) + " -> " + r.statusCode() + " " + cut(r.body());
        assertThat(r.statusCode()).as(what).isLessThan(500);
        if (r.statusCode() >= 400 && !op.pattern().startsWith("/api/")) { // Ollama's errors are {"error": "text"}
            JsonNode error = JSON.readTree(r.body()).path("error");
            assertThat(error.path("message").asText()).as(what).isNotBlank();
            if (r.statusCode() == 400 && (field != null || isObject(body)) && error.path("type").asText().equals("invalid_request_error")) {
                assertThat(error.path("param").isTextual()).as("a 400 names the field at fault: " + what).isTrue();
            }
        }
    }

    /** Whether raw bytes (after mutation) are still one whole JSON object: a 400 for it is about one of its fields. */
    static boolean isObject(String body) {
        try {
            return body != null && STRICT.readTree(body) instanceof ObjectNode;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static final ObjectMapper STRICT = new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static String cut(String s) {
        return s == null || s.length() <= 400 ? s : s.substring(0, 400) + "...(" + s.length() + " chars)";
    }

    /** Replaces, drops or adds one member somewhere in {@code node}; returns the top-level field it is under. */
    static String mutate(JsonNode node, FuzzedDataProvider data) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        if (names.isEmpty()) {
            ((ObjectNode) node).set(data.consumeString(12), value(data));
            return null;
        }
        String top = names.get(data.consumeInt(0, names.size() - 1));
        JsonNode parent = node;
        String name = top;
        while (parent.get(name) != null && parent.get(name).isContainerNode() && !parent.get(name).isEmpty() && data.consumeBoolean()) {
            JsonNode child = parent.get(name);
            if (child.isArray()) {
                ArrayNode a = (ArrayNode) child;
                int i = data.consumeInt(0, a.size() - 1);
                if (!a.get(i).isObject() || a.get(i).isEmpty()) {
                    a.set(i, value(data));
                    return top;
                }
                parent = a.get(i);
            } else {
                parent = child;
            }
            List<String> inner = new ArrayList<>();
            parent.fieldNames().forEachRemaining(inner::add);
            name = inner.get(data.consumeInt(0, inner.size() - 1));
        }
        switch (data.consumeInt(0, 2)) {
            case 0 -> ((ObjectNode) parent).remove(name);
            case 1 -> ((ObjectNode) parent).set(data.consumeString(12), value(data));
            default -> ((ObjectNode) parent).set(name, value(data));
        }
        return top;
    }

    static JsonNode value(FuzzedDataProvider data) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (data.consumeInt(0, 8)) {
            case 0 -> f.nullNode();
            case 1 -> f.booleanNode(data.consumeBoolean());
            case 2 -> f.numberNode(data.consumeInt());
            case 3 -> f.numberNode(data.consumeLong());
            case 4 -> f.numberNode(data.consumeDouble());
            case 5 -> f.arrayNode().add(data.consumeString(20));
            case 6 -> f.objectNode().put(data.consumeString(10), data.consumeString(20));
            case 7 -> f.textNode("x".repeat(data.consumeInt(0, 100_000)));
            default -> f.textNode(data.consumeString(64));
        };
    }
}

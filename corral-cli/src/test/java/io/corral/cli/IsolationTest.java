package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One key never reads, lists, searches, changes or deletes another key's resources, on every route the server has: a
 * whole in-process {@code corral serve} with two keys; A makes one of each resource (a file, a vector store with the
 * file and a batch, a conversation with an item, a stored response, an agent with a session and a turn, and its
 * traces); then every route of {@code /v1/openapi.json} is called with B's key, each path parameter filled with A's
 * id (the route's SDK-shaped example body with it), every list and query route too. None answers 2xx on A's
 * resources, none shows any of A's ids or text; afterwards A finds all of it as it was. A route whose path parameter
 * this test does not know fails it, so a new route is covered when it is added.
 */
class IsolationTest {

    static final String A = "key-isolation-aaaaaaaa", B = "key-isolation-bbbbbbbb";
    /** Path parameters that name the server's own resources (models, shields, engines, providers, page files), not a key's. */
    static final Set<String> SHARED = Set.of("model_id", "identifier", "engine_id", "provider_id", "file");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    String base;

    @Test
    void anotherKey_seesAndTouchesNothingOfAKeysResources_onAnyRoute() throws Exception {
        Path dir = Files.createTempDirectory("corral-isolation");
        System.setProperty("corral.cache", dir.resolve("cache").toString());
        ServeCommand serve = new ServeCommand();
        new picocli.CommandLine(serve).parseArgs("--port", "0", "--threads", "1", "--health-interval", "0", "--shutdown-grace", "1",
                "--api-key", A, "--api-key", B);
        try (ServeCommand.Served served = serve.start()) {
            base = served.server().url();
            String secret = "Quokkas guard the isolation secret";
            Map<String, String> ids = new LinkedHashMap<>();
            ids.put("file_id", upload(A, "secret.txt", secret + "."));
            ids.put("vector_store_id", id(ok(call(A, "POST", "/v1/vector_stores", "{\"name\":\"a-store\",\"file_ids\":[\"" + ids.get("file_id") + "\"]}"))));
            ids.put("vector_db_id", ids.get("vector_store_id")); // 0.2.x's name for the same store
            ids.put("upload_id", id(ok(call(A, "POST", "/v1/uploads",
                    "{\"bytes\":5,\"filename\":\"a-upload.txt\",\"mime_type\":\"text/plain\",\"purpose\":\"assistants\"}"))));
            String requests = upload(A, "requests.jsonl", "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                    + "\"body\":{\"model\":\"stories260K\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"" + secret + "\"}]}}", "batch");
            // OpenAI's batches name their id batch_id too; fill() gives /v1/batches/{batch_id} this one
            ids.put("openai_batch_id", id(ok(call(A, "POST", "/v1/batches",
                    "{\"input_file_id\":\"" + requests + "\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"))));
            String second = upload(A, "second.txt", secret + ", twice.");
            ids.put("batch_id", id(ok(call(A, "POST", "/v1/vector_stores/" + ids.get("vector_store_id") + "/file_batches",
                    "{\"file_ids\":[\"" + second + "\"]}"))));
            ids.put("conversation_id", id(ok(call(A, "POST", "/v1/conversations", "{\"metadata\":{\"topic\":\"a-topic\"}}"))));
            JsonNode items = ok(call(A, "POST", "/v1/conversations/" + ids.get("conversation_id") + "/items",
                    "{\"items\":[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"" + secret + "\"}]}]}"));
            ids.put("item_id", items.path("data").get(0).path("id").asText());
            ids.put("response_id", id(ok(call(A, "POST", "/v1/responses",
                    "{\"model\":\"stories260K\",\"input\":\"" + secret + "\",\"max_output_tokens\":4}"))));
            ids.put("completion_id", id(ok(call(A, "POST", "/v1/chat/completions", "{\"model\":\"stories260K\",\"store\":true,"
                    + "\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"" + secret + "\"}]}"))));
            ids.put("prompt_id", ok(call(A, "POST", "/v1/prompts", "{\"prompt\":\"" + secret + " about {{ city }}\",\"variables\":[\"city\"]}"))
                    .path("prompt_id").asText());
            ids.put("agent_id", ok(call(A, "POST", "/v1/agents", "{\"agent_config\":{\"model\":\"stories260K\",\"instructions\":\"x\"}}"))
                    .path("agent_id").asText());
            ids.put("session_id", ok(call(A, "POST", "/v1/agents/" + ids.get("agent_id") + "/session", "{\"session_name\":\"a-session\"}"))
                    .path("session_id").asText());
            ids.put("turn_id", ok(call(A, "POST", "/v1/agents/" + ids.get("agent_id") + "/session/" + ids.get("session_id") + "/turn",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"" + secret + "\"}],\"stream\":false}")).path("turn_id").asText());
            JsonNode traces = ok(call(A, "POST", "/v1/telemetry/traces", "{\"limit\":1}")).path("data");
            assertThat(traces).as("A's traces").isNotEmpty();
            ids.put("trace_id", traces.get(0).path("trace_id").asText());
            ids.put("span_id", traces.get(0).path("root_span_id").asText());
            assertThat(ids.values()).as("A's ids").allSatisfy(v -> assertThat(v).isNotBlank());
            awaitIngested(ids.get("vector_store_id"));
            Map<String, String> before = snapshot(ids);

            JsonNode doc = JSON.readTree(call(A, "GET", "/v1/openapi.json", null).body());
            List<String> checked = new ArrayList<>();
            List<String> unknown = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
                Map.Entry<String, JsonNode> p = paths.next();
                for (Iterator<Map.Entry<String, JsonNode>> ms = p.getValue().fields(); ms.hasNext(); ) {
                    Map.Entry<String, JsonNode> m = ms.next();
                    String method = m.getKey().toUpperCase(java.util.Locale.ROOT);
                    String route = method + " " + p.getKey();
                    // left out: the routes the fuzzer leaves out (they leave the server or write where a request says)
                    // and admin routes (the server's own state, no key's)
                    if (ApiFuzzTest.LEFT_OUT.contains(route) || io.corral.server.http.ApiKeys.adminRoute(method, p.getKey())) {
                        continue;
                    }
                    JsonNode example = m.getValue().at("/requestBody/content/application~1json/examples/sdk/value");
                    String path = fill(p.getKey(), ids, unknown, route);
                    if (path == null) {
                        continue; // a shared resource's route
                    }
                    String body = example.isMissingNode() ? (method.equals("GET") || method.equals("DELETE") ? null : "{}")
                            : JSON.writeValueAsString(example);
                    HttpResponse<String> r = call(B, method, path, body);
                    boolean owned = !path.equals(p.getKey());
                    if (owned) {
                        assertThat(r.statusCode()).as("%s with B's key on A's resource: %s", route, r.body()).isGreaterThanOrEqualTo(400);
                    }
                    for (Map.Entry<String, String> id : ids.entrySet()) { // (an error may name the id B sent)
                        if (!path.contains(id.getValue()) && (body == null || !body.contains(id.getValue()))) {
                            assertThat(r.body()).as("%s with B's key shows A's %s", route, id.getKey()).doesNotContain(id.getValue());
                        }
                    }
                    for (String mine : List.of("isolation secret", "a-topic", "a-store", "a-session")) {
                        assertThat(r.body()).as("%s with B's key shows A's text", route).doesNotContain(mine);
                    }
                    checked.add(route);
                }
            }
            assertThat(unknown).as("routes with a path parameter this test does not know: add it to ids or SHARED").isEmpty();
            // requests that name A's resources in their body
            for (String[] probe : List.of(
                    new String[]{"/v1/responses", "{\"model\":\"stories260K\",\"input\":\"x\",\"previous_response_id\":\"" + ids.get("response_id") + "\"}"},
                    new String[]{"/v1/responses", "{\"model\":\"stories260K\",\"input\":\"x\",\"conversation\":\"" + ids.get("conversation_id") + "\"}"},
                    new String[]{"/v1/responses", "{\"model\":\"stories260K\",\"input\":\"isolation\",\"max_output_tokens\":4,"
                            + "\"tools\":[{\"type\":\"file_search\",\"vector_store_ids\":[\"" + ids.get("vector_store_id") + "\"]}]}"},
                    new String[]{"/v1/vector_stores", "{\"name\":\"b\",\"file_ids\":[\"" + ids.get("file_id") + "\"]}"},
                    new String[]{"/v1/vector-io/query", "{\"vector_store_id\":\"" + ids.get("vector_store_id") + "\",\"query\":\"isolation\"}"},
                    new String[]{"/v1/tool-runtime/rag-tool/query", "{\"content\":\"isolation\",\"vector_db_ids\":[\"" + ids.get("vector_store_id") + "\"]}"},
                    new String[]{"/v1/tool-runtime/rag-tool/insert", "{\"vector_db_id\":\"" + ids.get("vector_store_id")
                            + "\",\"chunk_size_in_tokens\":512,\"documents\":[{\"document_id\":\"b\",\"content\":\"B's words\"}]}"},
                    new String[]{"/v1/vector-io/insert", "{\"vector_store_id\":\"" + ids.get("vector_store_id")
                            + "\",\"chunks\":[{\"chunk_id\":\"b1\",\"content\":\"B's words\"}]}"})) {
                HttpResponse<String> r = call(B, "POST", probe[0], probe[1]);
                assertThat(r.statusCode()).as("%s naming A's resource with B's key: %s", probe[1], r.body()).isGreaterThanOrEqualTo(400);
                assertThat(r.body()).doesNotContain("isolation secret");
            }
            System.out.println("IsolationTest: " + checked.size() + " routes called with another key's ids");
            assertThat(checked).hasSizeGreaterThan(40);
            // and A finds all of its resources as they were
            assertThat(snapshot(ids)).isEqualTo(before);
        }
    }

    /** {@code route} with each parameter replaced by A's id; null for a route of the server's own resources. */
    static String fill(String route, Map<String, String> ids, List<String> unknown, String name) {
        Matcher m = Pattern.compile("\\{([a-z_]+)}").matcher(route);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String param = m.group(1);
            if (SHARED.contains(param)) {
                return null;
            }
            String id = ids.get(route.startsWith("/v1/batches/") && param.equals("batch_id") ? "openai_batch_id" : param);
            if (id == null) {
                unknown.add(name + " {" + param + "}");
                return null;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(id));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** What A reads of each resource: the answers to its GETs, whole. */
    Map<String, String> snapshot(Map<String, String> ids) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        String vs = "/v1/vector_stores/" + ids.get("vector_store_id");
        for (String path : List.of("/v1/files/" + ids.get("file_id"), "/v1/files/" + ids.get("file_id") + "/content",
                vs + "/files", vs + "/files/" + ids.get("file_id") + "/content",
                "/v1/conversations/" + ids.get("conversation_id") + "/items",
                "/v1/responses/" + ids.get("response_id"), "/v1/chat/completions/" + ids.get("completion_id"),
                "/v1/prompts/" + ids.get("prompt_id") + "/versions",
                "/v1/agents/" + ids.get("agent_id") + "/session/" + ids.get("session_id") + "/turn/" + ids.get("turn_id"),
                "/v1/telemetry/traces/" + ids.get("trace_id"))) {
            HttpResponse<String> r = call(A, "GET", path, null);
            assertThat(r.statusCode()).as("A reads %s: %s", path, r.body()).isEqualTo(200);
            out.put(path, r.body());
        }
        JsonNode store = ok(call(A, "GET", vs, null));
        out.put(vs, store.path("name").asText() + " " + store.path("file_counts"));
        return out;
    }

    void awaitIngested(String store) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (ok(call(A, "GET", "/v1/vector_stores/" + store, null)).at("/file_counts/in_progress").asInt() > 0) {
            assertThat(System.nanoTime()).as("A's files are ingested").isLessThan(deadline);
            Thread.sleep(50); // polling the store's progress
        }
    }

    String upload(String key, String name, String content) throws Exception {
        return upload(key, name, content, "assistants");
    }

    String upload(String key, String name, String content, String purpose) throws Exception {
        String body = "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n--b\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\nContent-Type: text/plain\r\n\r\n"
                + content + "\r\n--b--\r\n";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/files")).header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        return id(ok(r));
    }

    HttpResponse<String> call(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + key)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.uri() + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static String id(JsonNode n) {
        return n.path("id").asText();
    }
}

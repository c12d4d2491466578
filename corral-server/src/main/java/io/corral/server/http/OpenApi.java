package io.corral.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code GET /v1/openapi.json}: an OpenAPI 3.1 document of every route the server has, built once from its route table
 * (paths, methods, path parameters) and {@code openapi-operations.json} beside this class (each operation's summary, and
 * for a JSON body its required fields and an example in the shape the official SDKs send, from which the body's schema is
 * read; {@code no_body} for a POST that takes none, {@code multipart} for an upload). The examples seed the fuzzer of the routes; a route missing from the operations file is described by its path
 * alone, and {@code OpenApiTest} keeps the two in step.
 */
public final class OpenApi implements Routes.Api {

    public static final String PATH = "/v1/openapi.json";

    private final String version;
    private Routes routes;
    private volatile byte[] document;

    public OpenApi(String version) {
        this.version = version;
    }

    @Override
    public void routes(Routes r) {
        routes = r;
        r.get(PATH, (req, res) -> {
            byte[] d = document;
            if (d == null) {
                d = Json.MAPPER.writeValueAsBytes(document(routes, version));
                document = d;
            }
            res.send(200, "application/json", d);
        });
    }

    /** Each operation's summary, required fields and example, keyed {@code "POST /v1/chat/completions"}. */
    public static ObjectNode operations() {
        try (InputStream in = OpenApi.class.getResourceAsStream("openapi-operations.json")) {
            return (ObjectNode) Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode document(Routes routes, String version) {
        ObjectNode ops = operations();
        ObjectNode doc = Json.MAPPER.createObjectNode().put("openapi", "3.1.0");
        doc.putObject("info").put("title", "Corral").put("version", version)
                .put("description", "OpenAI's, Llama Stack's and Ollama's APIs over every way of running a model");
        ObjectNode components = doc.putObject("components");
        components.putObject("securitySchemes").putObject("bearer").put("type", "http").put("scheme", "bearer");
        ObjectNode error = components.putObject("schemas").putObject("Error").put("type", "object");
        ObjectNode fields = error.putObject("properties").putObject("error").put("type", "object").putObject("properties");
        for (String f : new String[]{"message", "type", "param", "code"}) {
            ObjectNode field = fields.putObject(f);
            if (f.equals("message") || f.equals("type")) {
                field.put("type", "string");
            } else {
                field.putArray("type").add("string").add("null");
            }
        }
        error.putArray("required").add("error");
        doc.putArray("security").addObject().putArray("bearer");
        ObjectNode paths = doc.putObject("paths");
        for (Routes.Route r : routes.all()) {
            String key = r.method() + " " + r.pattern();
            JsonNode op = ops.path(key);
            ObjectNode path = paths.has(r.pattern()) ? (ObjectNode) paths.get(r.pattern()) : paths.putObject(r.pattern());
            ObjectNode o = path.putObject(r.method().toLowerCase(java.util.Locale.ROOT));
            o.put("operationId", operationId(key));
            o.put("summary", op.path("summary").asText(key));
            ArrayNode params = null;
            for (String segment : r.pattern().split("/")) {
                if (segment.startsWith("{")) {
                    if (params == null) {
                        params = o.putArray("parameters");
                    }
                    params.addObject().put("name", segment.substring(1, segment.length() - 1)).put("in", "path").put("required", true)
                            .putObject("schema").put("type", "string");
                }
            }
            if (op.path("multipart").asBoolean(false)) {
                ObjectNode schema = o.putObject("requestBody").put("required", true).putObject("content")
                        .putObject("multipart/form-data").putObject("schema").put("type", "object");
                schema.putObject("properties").putObject("file").put("type", "string").put("format", "binary");
                ((ObjectNode) schema.get("properties")).putObject("purpose").put("type", "string");
                schema.putArray("required").add("file").add("purpose");
            } else if (op.has("example")) {
                ObjectNode json = o.putObject("requestBody").put("required", true).putObject("content").putObject("application/json");
                ObjectNode schema = schema(op.get("example"));
                if (op.has("required")) {
                    schema.set("required", op.get("required"));
                }
                json.set("schema", schema);
                json.putObject("examples").putObject("sdk").set("value", op.get("example"));
            }
            ObjectNode responses = o.putObject("responses");
            responses.putObject("200").put("description", "OK");
            responses.putObject("4XX").put("description", "An OpenAI-style error: the field at fault in param")
                    .putObject("content").putObject("application/json").putObject("schema").put("$ref", "#/components/schemas/Error");
        }
        return doc;
    }

    /** {@code POST /v1/vector_stores/{id}/search} as {@code post_v1_vector_stores_id_search}. */
    static String operationId(String key) {
        return key.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_|_$", "");
    }

    /** A schema read from an example: its types, objects' properties, arrays' items. */
    static ObjectNode schema(JsonNode example) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        switch (example.getNodeType()) {
            case OBJECT -> {
                s.put("type", "object");
                ObjectNode props = s.putObject("properties");
                for (Iterator<Map.Entry<String, JsonNode>> it = example.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    props.set(e.getKey(), schema(e.getValue()));
                }
            }
            case ARRAY -> {
                s.put("type", "array");
                if (!example.isEmpty()) {
                    s.set("items", schema(example.get(0)));
                }
            }
            case STRING -> s.put("type", "string");
            case NUMBER -> s.put("type", example.isIntegralNumber() ? "integer" : "number");
            case BOOLEAN -> s.put("type", "boolean");
            default -> { } // null: any
        }
        return s;
    }
}

package io.corral.server.safety;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.openai.OpenAiRequests;
import io.corral.spi.Safety;
import io.corral.spi.SafetyProvider.Moderation;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.spi.SafetyProvider.Violation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Llama Stack's shields ({@code GET/POST /v1/shields}, {@code GET/DELETE /v1/shields/{identifier}}) and
 * {@code POST /v1/safety/run-shield}, and OpenAI's {@code POST /v1/moderations}, over {@link Safety}.
 */
public final class SafetyApi implements Routes.Api {

    /** The most inputs of one moderations request (as the embeddings endpoint bounds its inputs). */
    static final int MAX_INPUTS = 2048;

    private final Safety safety;

    public SafetyApi(Safety safety) {
        this.safety = safety;
    }

    @Override
    public void routes(Routes r) {
        r.get("/v1/shields", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    safety.shields().forEach(s -> data.add(json(s)));
                    res.json(200, o);
                })
                .post("/v1/shields", this::register)
                .get("/v1/shields/{identifier}", (req, res) -> res.json(200, json(safety.shield(req.param("identifier")))))
                .delete("/v1/shields/{identifier}", (req, res) -> {
                    safety.unregister(req.param("identifier"));
                    res.json(200, null);
                })
                .post("/v1/safety/run-shield", this::runShield)
                .post("/v1/moderations", this::moderate);
    }

    /** A shield as Llama Stack's {@code Shield} resource. */
    static ObjectNode json(Shield s) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("identifier", s.id());
        o.put("provider_resource_id", s.providerShieldId() == null ? s.id() : s.providerShieldId());
        o.put("provider_id", s.providerId());
        o.put("type", "shield");
        o.set("params", Json.MAPPER.valueToTree(s.params()));
        return o;
    }

    private void register(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String id = text(body, "shield_id", true);
        JsonNode params = body.get("params");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw ApiException.badRequest("params", "params must be an object");
        }
        Map<String, Object> p = params == null || params.isNull() ? Map.of() : Json.MAPPER.convertValue(params, MAP);
        res.json(200, json(safety.register(new Shield(id, text(body, "provider_id", false), text(body, "provider_shield_id", false), p))));
    }

    private void runShield(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String id = text(body, "shield_id", true);
        JsonNode params = body.get("params");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw ApiException.badRequest("params", "params must be an object");
        }
        Optional<Violation> v = safety.run(id, OpenAiRequests.messages(body),
                params == null || params.isNull() ? Map.of() : Json.MAPPER.convertValue(params, MAP));
        ObjectNode o = Json.MAPPER.createObjectNode();
        if (v.isEmpty()) {
            o.putNull("violation");
        } else {
            ObjectNode j = o.putObject("violation");
            j.put("violation_level", v.get().level().wireName());
            j.put("user_message", v.get().userMessage());
            j.set("metadata", Json.MAPPER.valueToTree(v.get().metadata()));
        }
        res.json(200, o);
    }

    /** OpenAI's moderations: {@code input} a string or a list of strings, {@code model} a shield or what one runs. */
    private void moderate(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        JsonNode input = body.get("input");
        List<String> inputs = new ArrayList<>();
        if (input != null && input.isTextual()) {
            inputs.add(input.asText());
        } else if (input != null && input.isArray() && !input.isEmpty() && input.size() <= MAX_INPUTS) {
            for (JsonNode i : input) {
                if (!i.isTextual()) {
                    throw ApiException.badRequest("input", "input must be a string or a non-empty array of strings"
                            + (i.isObject() ? " (image inputs are not moderated here)" : ""));
                }
                inputs.add(i.asText());
            }
        } else {
            throw ApiException.badRequest("input", input != null && input.isArray() && input.size() > MAX_INPUTS
                    ? "input has " + input.size() + " items; at most " + MAX_INPUTS + " are allowed in one request"
                    : "input must be a string or a non-empty array of strings");
        }
        Safety.Moderations m = safety.moderate(text(body, "model", false), inputs);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", "modr-" + req.id());
        o.put("model", m.model());
        ArrayNode results = o.putArray("results");
        for (Moderation r : m.results()) {
            ObjectNode j = results.addObject();
            j.put("flagged", r.flagged());
            j.set("categories", Json.MAPPER.valueToTree(r.categories()));
            j.set("category_scores", Json.MAPPER.valueToTree(r.scores()));
            ObjectNode applied = j.putObject("category_applied_input_types");
            r.categories().forEach((k, found) -> {
                ArrayNode types = applied.putArray(k);
                if (found) {
                    types.add("text");
                }
            });
            if (r.violation() != null) { // Llama Stack's additions
                j.put("user_message", r.violation().userMessage());
                j.set("metadata", Json.MAPPER.valueToTree(r.violation().metadata()));
            }
        }
        res.json(200, o);
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>> MAP = new com.fasterxml.jackson.core.type.TypeReference<>() { };

    private static String text(JsonNode body, String key, boolean required) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest(key, key + " is required");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw ApiException.badRequest(key, key + " must be a non-empty string");
        }
        return v.asText();
    }
}

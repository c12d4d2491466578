package io.corral.server.prompts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Fields;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Routes;
import io.corral.spi.Prompts;

import java.util.List;
import java.util.Objects;

/**
 * Llama Stack's prompts API over {@link Prompts}: create, list (each at its default version), read (a version, or the
 * default), update (the next version, built on the latest), the versions, the default version set, delete. A caller sees
 * only its API key's prompts. OpenAI's Responses name them by {@code prompt}.
 */
public final class PromptsApi implements Routes.Api {

    private final Prompts prompts;

    public PromptsApi(Prompts prompts) {
        this.prompts = prompts;
    }

    @Override
    public void routes(Routes r) {
        String one = "/v1/prompts/{prompt_id}";
        r.post("/v1/prompts", (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    res.json(200, json(prompts.create(req.tenant(), Fields.text(body, "prompt", "prompt"), variables(body))));
                })
                .get("/v1/prompts", (req, res) -> res.json(200, list(prompts.list(req.tenant()))))
                .get(one, (req, res) -> res.json(200, json(prompts.get(req.tenant(), req.param("prompt_id"), version(req)))))
                .put(one, (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    res.json(200, json(prompts.update(req.tenant(), req.param("prompt_id"), Fields.text(body, "prompt", "prompt"),
                            whole(body, "version"), variables(body),
                            Objects.requireNonNullElse(Fields.flag(body, "set_as_default", "set_as_default"), true))));
                })
                .delete(one, (req, res) -> {
                    prompts.delete(req.tenant(), req.param("prompt_id"));
                    res.json(200, null); // Llama Stack answers nothing: JSON null
                })
                .get(one + "/versions", (req, res) -> res.json(200, list(prompts.versions(req.tenant(), req.param("prompt_id")))))
                .put(one + "/set-default-version", (req, res) -> res.json(200,
                        json(prompts.setDefault(req.tenant(), req.param("prompt_id"), whole(Json.parse(req.body()), "version")))));
    }

    private static List<String> variables(JsonNode body) {
        List<String> v = Fields.strings(body, "variables", "variables");
        return v == null ? List.of() : v;
    }

    private static int whole(JsonNode body, String field) {
        Long v = Fields.whole(body, field, field);
        if (v == null || v < 1 || v > Integer.MAX_VALUE) {
            throw ApiException.badRequest(field, field + " is required: a version number (1 or more)");
        }
        return (int) (long) v;
    }

    private static Integer version(Request req) {
        String v = req.query("version");
        if (v == null || v.isBlank()) {
            return null;
        }
        if (!v.matches("[1-9][0-9]{0,8}")) {
            throw ApiException.badRequest("version", "version must be a version number (1 or more), not '" + v + "'");
        }
        return Integer.valueOf(v);
    }

    static ObjectNode json(Prompts.Prompt p) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("prompt_id", p.id()).put("prompt", p.text()).put("version", p.version());
        ArrayNode vars = o.putArray("variables");
        p.variables().forEach(vars::add);
        return o.put("is_default", p.isDefault());
    }

    private static ObjectNode list(List<Prompts.Prompt> all) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode data = o.putArray("data");
        all.forEach(p -> data.add(json(p)));
        return o;
    }
}

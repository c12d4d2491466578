package io.corral.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.engines.EngineRegistry;
import io.corral.engines.EngineStatus;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/** {@code GET /v1/engines}, {@code GET /v1/engines/{id}}, {@code POST /v1/engines/reload}. */
final class EnginesApi implements HttpService {

    private final EngineRegistry registry;
    private final ModelDirectory models;
    private final Http http;

    EnginesApi(EngineRegistry registry, ModelDirectory models, Http http) {
        this.registry = registry;
        this.models = models;
        this.http = http;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/v1/engines", (req, res) -> http.json(res, Status.OK_200, list()))
                .post("/v1/engines/reload", (req, res) -> {
                    registry.discover();
                    models.reload(registry.routers());
                    http.json(res, Status.OK_200, list());
                })
                .get("/v1/engines/*", (req, res) -> {
                    String id = req.path().path().substring("/v1/engines/".length());
                    EngineStatus e = registry.engine(id);
                    if (e == null) {
                        throw ApiException.notFound("engine '" + id + "' not found");
                    }
                    http.json(res, Status.OK_200, json(e));
                });
    }

    private ObjectNode list() {
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        registry.engines().forEach(e -> data.add(json(e)));
        return o;
    }

    static ObjectNode json(EngineStatus e) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", e.id());
        o.put("provider", e.provider());
        o.put("base_url", e.baseUrl());
        o.put("status", e.status().name().toLowerCase());
        o.put("latency_ms", e.latencyMs());
        o.put("last_error", e.lastError());
        o.put("last_success", e.lastSuccess() == null ? null : e.lastSuccess().toString());
        ArrayNode ms = o.putArray("models");
        e.models().forEach(ms::add);
        return o;
    }
}

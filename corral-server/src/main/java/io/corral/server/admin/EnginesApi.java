package io.corral.server.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.engines.EngineRegistry;
import io.corral.engines.EngineStatus;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Routes;

/** {@code GET /v1/engines}, {@code GET /v1/engines/{id}}, {@code POST /v1/engines/reload}. */
public final class EnginesApi implements Routes.Api {

    private final EngineRegistry registry;
    private final ModelDirectory models;

    public EnginesApi(EngineRegistry registry, ModelDirectory models) {
        this.registry = registry;
        this.models = models;
    }

    @Override
    public void routes(Routes r) {
        r.get("/v1/engines", (req, res) -> res.json(200, list()))
                .post("/v1/engines/reload", (req, res) -> {
                    registry.discover();
                    models.reload(registry.routers());
                    res.json(200, list());
                })
                .get("/v1/engines/{engine_id}", (req, res) -> {
                    EngineStatus e = registry.engine(req.param("engine_id"));
                    if (e == null) {
                        throw ApiException.notFound("engine '" + req.param("engine_id") + "' not found");
                    }
                    res.json(200, json(e));
                });
    }

    private ObjectNode list() {
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        registry.engines().forEach(e -> data.add(json(e)));
        return o;
    }

    private static final java.util.List<String> PLACEMENT =
            java.util.List.of("device", "backend", "gpu_layers", "offloadable_layers", "device_memory", "gpu_fallback");

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
        e.models().forEach(m -> {
            ObjectNode model = ms.addObject().put("id", m.id()).put("model_type", m.type().wire());
            m.capabilities().stream().map(c -> c.name().toLowerCase()).sorted().forEach(model.putArray("capabilities")::add);
            if (m.dimension() > 0) {
                model.put("embedding_dimension", m.dimension());
            }
            for (String key : PLACEMENT) { // an in-process model's device, layers offloaded and device memory
                if (m.metadata().get(key) != null) {
                    model.set(key, Json.MAPPER.valueToTree(m.metadata().get(key)));
                }
            }
        });
        return o;
    }
}

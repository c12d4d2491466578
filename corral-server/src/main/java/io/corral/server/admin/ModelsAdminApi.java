package io.corral.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.EventStream;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.ModelLibrary;
import io.corral.spi.OnDemandModels;

import java.time.Duration;

/**
 * Corral's own model management, beside Ollama's: {@code GET /v1/admin/models} (pulled models, and those loaded with
 * their size, device and when they unload), {@code POST /v1/admin/models/pull {"model": REF}} (progress as server-sent
 * events, a last {@code done} event with the name kept), {@code POST /v1/admin/models/load {"model", "keep_alive"}}
 * and {@code POST /v1/admin/models/unload {"model"}}. Like the backup route, only for a client on the server's own
 * machine (loopback): these write to its disk and take its memory.
 */
public final class ModelsAdminApi implements Routes.Api {

    private final OnDemandModels onDemand;
    private final ModelLibrary library;

    /** Either may be null: that part is then not served (404). */
    public ModelsAdminApi(OnDemandModels onDemand, ModelLibrary library) {
        this.onDemand = onDemand;
        this.library = library;
    }

    @Override
    public void routes(Routes r) {
        if (onDemand != null) {
            r.get("/v1/admin/models", (req, res) -> {
                local(req);
                res.json(200, list());
            });
            r.post("/v1/admin/models/load", this::load);
            r.post("/v1/admin/models/unload", this::unload);
        }
        if (library != null) {
            r.post("/v1/admin/models/pull", this::pull);
        }
    }

    private static void local(Request req) throws java.net.UnknownHostException {
        LocalCallers.require(req, "model management acts on the server's disk and memory: ask from its own machine");
    }

    private ObjectNode list() {
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        java.util.Map<String, OnDemandModels.Loaded> loaded = new java.util.LinkedHashMap<>();
        onDemand.loaded().forEach(l -> loaded.put(l.name(), l));
        for (String name : onDemand.names()) {
            ObjectNode m = data.addObject().put("id", name).put("object", "model");
            OnDemandModels.Loaded l = loaded.get(name);
            m.put("loaded", l != null);
            if (l != null) {
                m.put("bytes", l.bytes()).put("in_use", l.inUse());
                m.put("expires_at", l.expiresAt() == null ? null : l.expiresAt().toString());
                for (String key : java.util.List.of("device", "gpu_layers", "offloadable_layers", "device_memory")) {
                    if (l.details().get(key) != null) {
                        m.set(key, Json.MAPPER.valueToTree(l.details().get(key)));
                    }
                }
            }
        }
        return o;
    }

    private String model(JsonNode body) {
        JsonNode m = body.get("model");
        if (m == null || !m.isTextual() || m.asText().isBlank()) {
            throw ApiException.badRequest("model", "model is required: a pulled model's name");
        }
        return m.asText();
    }

    private void load(Request req, Response res) throws Exception {
        local(req);
        JsonNode body = Json.parse(req.body());
        String name = model(body);
        Duration keepAlive = io.corral.server.http.KeepAlive.of(body);
        if (!onDemand.names().contains(name)) {
            throw ApiException.notFound("no pulled model '" + name + "'; GET /v1/admin/models lists them");
        }
        long t0 = System.nanoTime();
        onDemand.get(name);
        onDemand.keepAlive(name, keepAlive);
        ObjectNode o = Json.MAPPER.createObjectNode().put("id", name).put("loaded", true)
                .put("took_ms", (System.nanoTime() - t0) / 1_000_000);
        res.json(200, o);
    }

    private void unload(Request req, Response res) throws Exception {
        local(req);
        String name = model(Json.parse(req.body()));
        if (!onDemand.unload(name)) {
            throw ApiException.notFound("model '" + name + "' is not loaded");
        }
        res.json(200, Json.MAPPER.createObjectNode().put("id", name).put("unloaded", true));
    }

    /** Progress events ({@code status}, and for a download {@code total} and {@code completed} bytes), then {@code done}. */
    private void pull(Request req, Response res) throws Exception {
        local(req);
        String ref = model(Json.parse(req.body()));
        EventStream events = res.events();
        try {
            String name = library.pull(ref, p -> {
                ObjectNode o = Json.MAPPER.createObjectNode().put("object", "model.pull.progress").put("status", p.status());
                if (p.total() > 0) {
                    o.put("total", p.total()).put("completed", p.completed());
                }
                events.data(o);
            });
            events.data(Json.MAPPER.createObjectNode().put("object", "model.pull.done").put("id", name));
            events.done();
        } catch (EventStream.ClientGone gone) {
            throw gone;
        } catch (RuntimeException e) {
            events.fail(Errors.map(e));
        }
    }
}

package io.corral.server.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.Routes;
import io.corral.telemetry.Telemetry;
import io.corral.telemetry.TraceStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Llama Stack 0.2.x's trace queries over the built-in store (a documented extension: Corral answers them
 * as llama-stack-client 0.2.23 sends and reads them): {@code POST /v1/telemetry/traces} (query_traces),
 * {@code GET /v1/telemetry/traces/{trace_id}}, {@code GET /v1/telemetry/traces/{trace_id}/spans/{span_id}},
 * {@code POST /v1/telemetry/spans/{span_id}/tree}, {@code POST /v1/telemetry/spans} (query_spans). Lists
 * come wrapped in {@code {"data": ...}}, as Llama Stack wraps them. With API keys, each key sees only its own requests'
 * traces (their root span's {@code corral.owner}); another's are not found.
 */
public final class TracesApi implements Routes.Api {

    private static final int MAX_LIMIT = 1000;

    private final Telemetry telemetry;

    public TracesApi(Telemetry telemetry) {
        this.telemetry = telemetry;
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/telemetry/traces", (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    int limit = bounded(body, "limit", 100);
                    int offset = body.path("offset").asInt(0);
                    if (offset < 0) {
                        throw ApiException.badRequest("offset", "offset must be >= 0");
                    }
                    List<String> order = new ArrayList<>();
                    body.path("order_by").forEach(o -> order.add(o.asText()));
                    List<TraceStore.Trace> traces;
                    try {
                        traces = store().queryTraces(req.tenant(), conditions(body), limit, offset, order);
                    } catch (IllegalArgumentException e) {
                        throw ApiException.badRequest("order_by", e.getMessage());
                    }
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    traces.forEach(t -> data.add(trace(t)));
                    res.json(200, o);
                })
                .get("/v1/telemetry/traces/{trace_id}", (req, res) -> {
                    TraceStore store = store();
                    TraceStore.Trace t = store.trace(req.param("trace_id"));
                    if (t == null || !store.ownedBy(t.traceId(), req.tenant())) {
                        throw ApiException.notFound("trace '" + req.param("trace_id") + "' not found");
                    }
                    res.json(200, trace(t));
                })
                .get("/v1/telemetry/traces/{trace_id}/spans/{span_id}", (req, res) -> {
                    TraceStore store = store();
                    TraceStore.StoredSpan s = store.span(req.param("trace_id"), req.param("span_id"));
                    if (s == null || !store.ownedBy(s.traceId(), req.tenant())) {
                        throw ApiException.notFound("span '" + req.param("span_id") + "' not found in trace '"
                                + req.param("trace_id") + "'");
                    }
                    res.json(200, span(s, null, false));
                })
                .post("/v1/telemetry/spans/{span_id}/tree", (req, res) -> {
                    JsonNode body = req.body().length == 0 ? Json.MAPPER.createObjectNode() : Json.parse(req.body());
                    List<String> keep = attributes(body, "attributes_to_return");
                    TraceStore store = store();
                    List<TraceStore.StoredSpan> tree = store.tree(req.param("span_id"), body.path("max_depth").asInt(-1));
                    if (tree.isEmpty() || !store.ownedBy(tree.getFirst().traceId(), req.tenant())) {
                        throw ApiException.notFound("span '" + req.param("span_id") + "' not found");
                    }
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ObjectNode data = o.putObject("data");
                    tree.forEach(s -> data.set(s.spanId(), span(s, keep, true)));
                    res.json(200, o);
                })
                .post("/v1/telemetry/spans", (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    List<String> keep = attributes(body, "attributes_to_return");
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    store().querySpans(req.tenant(), conditions(body), body.path("max_depth").asInt(0), MAX_LIMIT)
                            .forEach(s -> data.add(span(s, keep, false)));
                    res.json(200, o);
                });
    }

    private TraceStore store() {
        telemetry.flush(); // spans ended a moment ago are in
        TraceStore store = telemetry.store();
        if (store == null) {
            throw ApiException.notFound("no trace store: turn on the sqlite telemetry sink to query traces");
        }
        return store;
    }

    private static int bounded(JsonNode body, String key, int fallback) {
        int v = body.path(key).asInt(fallback);
        if (v < 1 || v > MAX_LIMIT) {
            throw ApiException.badRequest(key, key + " must be 1-" + MAX_LIMIT + ", was " + v);
        }
        return v;
    }

    private static List<String> attributes(JsonNode body, String key) {
        JsonNode a = body.get(key);
        if (a == null || a.isNull()) {
            return null;
        }
        if (!a.isArray()) {
            throw ApiException.badRequest(key, key + " must be an array of attribute names");
        }
        List<String> names = new ArrayList<>();
        a.forEach(n -> names.add(n.asText()));
        return names;
    }

    private static List<TraceStore.Condition> conditions(JsonNode body) {
        List<TraceStore.Condition> list = new ArrayList<>();
        JsonNode filters = body.get("attribute_filters");
        if (filters == null || filters.isNull()) {
            return list;
        }
        if (!filters.isArray()) {
            throw ApiException.badRequest("attribute_filters", "attribute_filters must be an array of {key, op, value}");
        }
        for (JsonNode f : filters) {
            JsonNode v = f.path("value");
            Object value = v.isBoolean() ? v.asBoolean() : v.isNumber() ? v.numberValue() : v.isTextual() ? v.asText() : null;
            if (value == null) {
                throw ApiException.badRequest("attribute_filters", "a filter's value must be a string, number or boolean");
            }
            try {
                list.add(new TraceStore.Condition(f.path("key").asText(null), f.path("op").asText(""), value));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("attribute_filters", e.getMessage());
            }
        }
        return list;
    }

    private static ObjectNode trace(TraceStore.Trace t) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("trace_id", t.traceId());
        o.put("root_span_id", t.rootSpanId());
        o.put("start_time", time(t.startNanos()));
        o.put("end_time", time(t.endNanos()));
        return o;
    }

    private static ObjectNode span(TraceStore.StoredSpan s, List<String> keep, boolean withStatus) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("span_id", s.spanId());
        o.put("trace_id", s.traceId());
        o.put("parent_span_id", s.parentSpanId());
        o.put("name", s.name());
        o.put("start_time", time(s.startNanos()));
        o.put("end_time", time(s.endNanos()));
        ObjectNode attrs = o.putObject("attributes");
        for (Map.Entry<String, Object> e : s.attributes().entrySet()) {
            if (keep == null || keep.contains(e.getKey())) {
                attrs.set(e.getKey(), Json.MAPPER.valueToTree(e.getValue()));
            }
        }
        if (withStatus) {
            o.put("status", s.status());
        }
        return o;
    }

    private static String time(long epochNanos) {
        return Instant.ofEpochSecond(0, epochNanos).toString();
    }
}

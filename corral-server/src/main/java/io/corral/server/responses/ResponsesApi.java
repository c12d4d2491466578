package io.corral.server.responses;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.EventStream;
import io.corral.server.http.Json;
import io.corral.server.http.Page;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.openai.OpenAiRequests;
import io.corral.spi.Responses;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's Responses ({@code /v1/responses}: create, streamed or not; retrieve, delete, list, input items) and
 * Conversations ({@code /v1/conversations}: create, retrieve, update, delete; items listed by cursor, added,
 * retrieved, deleted) over {@link Responses}. Streams are OpenAI's events, each a {@code data:} frame with its
 * {@code type}, ending with {@code response.completed} (or incomplete); a failure after the first event ends the
 * stream with an error event. A caller sees only its API key's records.
 */
public final class ResponsesApi implements Routes.Api {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() { };

    private final Responses responses;

    public ResponsesApi(Responses responses) {
        this.responses = responses;
    }

    @Override
    public void routes(Routes r) {
        String one = "/v1/responses/{response_id}";
        String conv = "/v1/conversations/{conversation_id}";
        r.post("/v1/responses", this::create)
                .get("/v1/responses", (req, res) -> res.json(200, page(req, responses.list(req.tenant(), req.query("model")))))
                .get(one, (req, res) -> res.json(200, responses.get(req.tenant(), req.param("response_id"))))
                .delete(one, (req, res) -> res.json(200, responses.delete(req.tenant(), req.param("response_id"))))
                .post(one + "/cancel", (req, res) -> res.json(200, responses.cancel(req.tenant(), req.param("response_id"))))
                .get(one + "/input_items", (req, res) -> res.json(200, page(req, responses.inputItems(req.tenant(), req.param("response_id")))))
                .post("/v1/conversations", this::createConversation)
                .get(conv, (req, res) -> res.json(200, responses.conversation(req.tenant(), req.param("conversation_id"))))
                .post(conv, (req, res) -> res.json(200, responses.updateConversation(req.tenant(), req.param("conversation_id"),
                        OpenAiRequests.metadata(Json.parse(req.body())))))
                .delete(conv, (req, res) -> res.json(200, responses.deleteConversation(req.tenant(), req.param("conversation_id"))))
                .get(conv + "/items", (req, res) -> res.json(200, page(req, responses.items(req.tenant(), req.param("conversation_id")))))
                .post(conv + "/items", this::addItems)
                .get(conv + "/items/{item_id}", (req, res) -> res.json(200,
                        responses.item(req.tenant(), req.param("conversation_id"), req.param("item_id"))))
                .delete(conv + "/items/{item_id}", (req, res) -> res.json(200,
                        responses.deleteItem(req.tenant(), req.param("conversation_id"), req.param("item_id"))));
    }

    private void create(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        if (!body.isObject()) {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
        req.model(body.path("model").asText(null));
        Map<String, Object> request = Json.MAPPER.convertValue(body, MAP);
        if (!body.path("stream").asBoolean(false)) {
            Map<String, Object> r = responses.create(req.tenant(), request, null);
            tokens(req, r);
            res.json(200, r);
            return;
        }
        EventStream[] sse = new EventStream[1];
        try {
            Map<String, Object> r = responses.create(req.tenant(), request, (type, event) -> {
                if (sse[0] == null) {
                    sse[0] = res.events();
                }
                if (type.equals("response.output_text.delta")) {
                    req.firstToken();
                }
                sse[0].data(event);
            });
            tokens(req, r);
        } catch (EventStream.ClientGone gone) {
            throw gone;
        } catch (RuntimeException e) {
            if (sse[0] == null) {
                throw e; // nothing sent yet: an error answer
            }
            sse[0].fail(io.corral.server.http.Errors.map(e));
        }
    }

    @SuppressWarnings("unchecked")
    private static void tokens(Request req, Map<String, Object> response) {
        if (response.get("usage") instanceof Map<?, ?> u) {
            req.tokens(((Number) ((Map<String, Object>) u).getOrDefault("input_tokens", 0)).intValue(),
                    ((Number) ((Map<String, Object>) u).getOrDefault("output_tokens", 0)).intValue());
        }
    }

    private void createConversation(Request req, Response res) {
        JsonNode body = req.body().length == 0 ? Json.MAPPER.createObjectNode() : Json.parse(req.body());
        res.json(200, responses.createConversation(req.tenant(), items(body, false), OpenAiRequests.metadata(body)));
    }

    private void addItems(Request req, Response res) {
        List<Map<String, Object>> added = responses.addItems(req.tenant(), req.param("conversation_id"), items(Json.parse(req.body()), true));
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        o.set("data", Json.MAPPER.valueToTree(added));
        o.put("first_id", added.isEmpty() ? null : String.valueOf(added.getFirst().get("id")));
        o.put("last_id", added.isEmpty() ? null : String.valueOf(added.getLast().get("id")));
        o.put("has_more", false);
        res.json(200, o);
    }

    private static List<Map<String, Object>> items(JsonNode body, boolean required) {
        JsonNode items = body.get("items");
        if (items == null || items.isNull()) {
            if (required) {
                throw ApiException.badRequest("items", "items is required");
            }
            return List.of();
        }
        if (!items.isArray()) {
            throw ApiException.badRequest("items", "items must be a list");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (!items.get(i).isObject()) {
                throw ApiException.badRequest("items[" + i + "]", "items[" + i + "] must be an item (an object with its type)");
            }
            out.add(Json.MAPPER.convertValue(items.get(i), MAP));
        }
        return out;
    }

    /** A list, newest first, as one page by the request's cursor. */
    private static ObjectNode page(Request req, List<Map<String, Object>> newestFirst) {
        return Page.of(req, newestFirst, m -> String.valueOf(m.get("id")), m -> Json.MAPPER.valueToTree(m), 20, 100);
    }
}

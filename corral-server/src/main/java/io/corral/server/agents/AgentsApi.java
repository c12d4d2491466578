package io.corral.server.agents;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.EventStream;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.LegacyAgents;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Llama Stack 0.2.x's agents API over {@link LegacyAgents}: {@code /v1/agents} (create, list, get, delete), its
 * sessions, turns (whole, or streamed as turn and step events) and resuming a turn with client tool results.
 */
public final class AgentsApi implements Routes.Api {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() { };

    private final LegacyAgents agents;

    public AgentsApi(LegacyAgents agents) {
        this.agents = agents;
    }

    @Override
    public void routes(Routes r) {
        String agent = "/v1/agents/{agent_id}";
        String session = agent + "/session/{session_id}";
        r.post("/v1/agents", (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    if (!body.path("agent_config").isObject()) {
                        throw ApiException.badRequest("agent_config", "agent_config is required");
                    }
                    res.json(200, agents.createAgent(req.tenant(), Json.MAPPER.convertValue(body.get("agent_config"), MAP)));
                })
                .get("/v1/agents", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    o.set("data", Json.MAPPER.valueToTree(agents.agents(req.tenant())));
                    o.put("has_more", false);
                    res.json(200, o);
                })
                .get(agent, (req, res) -> res.json(200, agents.agent(req.tenant(), req.param("agent_id"))))
                .delete(agent, (req, res) -> {
                    agents.deleteAgent(req.tenant(), req.param("agent_id"));
                    res.json(200, null);
                })
                .post(agent + "/session", (req, res) -> {
                    JsonNode body = req.body().length == 0 ? Json.MAPPER.createObjectNode() : Json.parse(req.body());
                    res.json(200, agents.createSession(req.tenant(), req.param("agent_id"), body.path("session_name").asText(null)));
                })
                .get(agent + "/sessions", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    o.set("data", Json.MAPPER.valueToTree(agents.sessions(req.tenant(), req.param("agent_id"))));
                    o.put("has_more", false);
                    res.json(200, o);
                })
                .get(session, (req, res) -> res.json(200, agents.session(req.tenant(), req.param("agent_id"), req.param("session_id"))))
                .delete(session, (req, res) -> {
                    agents.deleteSession(req.tenant(), req.param("agent_id"), req.param("session_id"));
                    res.json(200, null);
                })
                .post(session + "/turn", (req, res) -> turn(req, res, null))
                .get(session + "/turn/{turn_id}", (req, res) -> res.json(200,
                        agents.getTurn(req.tenant(), req.param("agent_id"), req.param("session_id"), req.param("turn_id"))))
                .post(session + "/turn/{turn_id}/resume", (req, res) -> turn(req, res, req.param("turn_id")));
    }

    /** A turn or its resumption: one JSON turn, or (with {@code stream}) its events, each a {@code data:} frame. */
    private void turn(Request req, Response res, String resumed) {
        JsonNode body = Json.parse(req.body());
        Map<String, Object> request = Json.MAPPER.convertValue(body, MAP);
        String agentId = req.param("agent_id");
        String sessionId = req.param("session_id");
        if (!body.path("stream").asBoolean(false)) {
            res.json(200, resumed == null ? agents.turn(req.tenant(), agentId, sessionId, request, null)
                    : agents.resume(req.tenant(), agentId, sessionId, resumed, request, null));
            return;
        }
        EventStream[] sse = new EventStream[1];
        io.corral.spi.Responses.Events events = (type, event) -> {
            if (sse[0] == null) {
                sse[0] = res.events();
            }
            sse[0].data(event);
        };
        try {
            if (resumed == null) {
                agents.turn(req.tenant(), agentId, sessionId, request, events);
            } else {
                agents.resume(req.tenant(), agentId, sessionId, resumed, request, events);
            }
        } catch (EventStream.ClientGone gone) {
            throw gone;
        } catch (RuntimeException e) {
            if (sse[0] == null) {
                throw e;
            }
            sse[0].fail(Errors.map(e));
        }
    }
}

package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.KeyValueStore;
import io.corral.spi.LegacyAgents;
import io.corral.spi.Responses;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link LegacyAgents}: Llama Stack 0.2.x's agents on the Responses loop. An agent is its config (model,
 * instructions, {@code client_tools}, {@code toolgroups} {@code builtin::rag} and {@code builtin::websearch},
 * shields, sampling, {@code max_infer_iters}); a session keeps its turns and the id of its last response; a turn is a
 * response that continues it (client tool calls leave it awaiting {@code resume} with the tools' results). Records
 * live in the state store under {@code agents/} and {@code agent_sessions/}, per tenant.
 */
public final class LegacyAgentsService implements LegacyAgents {

    private final Responses responses;
    private final KeyValueStore state;
    private final Clock clock;

    public LegacyAgentsService(Responses responses, KeyValueStore state, Clock clock) {
        this.responses = responses;
        this.state = state;
        this.clock = clock;
    }

    private static String key(String kind, String tenant, String id) {
        return kind + "/" + (tenant == null ? "-" : tenant) + "/" + id;
    }

    // ---- agents and sessions ----

    @Override
    public Map<String, Object> createAgent(String tenant, Map<String, Object> agentConfig) {
        JsonNode config = Json.tree(agentConfig);
        if (!config.path("model").isTextual() || config.get("model").asText().isBlank()) {
            throw new InvalidRequestException("agent_config", "agent_config.model is required");
        }
        checkConfig(config);
        request(config, List.of(), null); // checks the tools and settings now, not at the first turn
        String id = java.util.UUID.randomUUID().toString();
        ObjectNode agent = Json.object().put("agent_id", id).put("created_at", Instant.now(clock).toString());
        agent.set("agent_config", config);
        state.set(key("agents", tenant, id), Json.text(agent));
        return Map.of("agent_id", id);
    }

    private ObjectNode agentRecord(String tenant, String id) {
        return (ObjectNode) state.get(key("agents", tenant, id)).map(Json::parse)
                .orElseThrow(() -> new NotFoundException("agent_id", "no agent '" + id + "'"));
    }

    @Override
    public Map<String, Object> agent(String tenant, String agentId) {
        return Json.plain(agentRecord(tenant, agentId));
    }

    @Override
    public List<Map<String, Object>> agents(String tenant) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (var e : state.prefix(key("agents", tenant, ""))) {
            out.add(Json.plain(Json.parse(e.getValue())));
        }
        return out;
    }

    @Override
    public void deleteAgent(String tenant, String agentId) {
        agentRecord(tenant, agentId);
        for (var e : state.prefix(key("agent_sessions", tenant, agentId + "/"))) {
            state.delete(e.getKey());
        }
        state.delete(key("agents", tenant, agentId));
    }

    @Override
    public Map<String, Object> createSession(String tenant, String agentId, String name) {
        agentRecord(tenant, agentId);
        String id = java.util.UUID.randomUUID().toString();
        ObjectNode s = Json.object().put("session_id", id).put("session_name", name == null ? id : name)
                .put("started_at", Instant.now(clock).toString());
        s.putArray("turns");
        s.putNull("last_response_id");
        state.set(key("agent_sessions", tenant, agentId + "/" + id), Json.text(s));
        return Map.of("session_id", id);
    }

    private ObjectNode sessionRecord(String tenant, String agentId, String sessionId) {
        agentRecord(tenant, agentId);
        return (ObjectNode) state.get(key("agent_sessions", tenant, agentId + "/" + sessionId)).map(Json::parse)
                .orElseThrow(() -> new NotFoundException("session_id", "no session '" + sessionId + "' of agent '" + agentId + "'"));
    }

    @Override
    public Map<String, Object> session(String tenant, String agentId, String sessionId) {
        ObjectNode s = sessionRecord(tenant, agentId, sessionId).deepCopy();
        s.remove("last_response_id");
        return Json.plain(s);
    }

    @Override
    public List<Map<String, Object>> sessions(String tenant, String agentId) {
        agentRecord(tenant, agentId);
        List<Map<String, Object>> out = new ArrayList<>();
        for (var e : state.prefix(key("agent_sessions", tenant, agentId + "/"))) {
            ObjectNode s = (ObjectNode) Json.parse(e.getValue());
            s.remove("last_response_id");
            out.add(Json.plain(s));
        }
        return out;
    }

    @Override
    public void deleteSession(String tenant, String agentId, String sessionId) {
        sessionRecord(tenant, agentId, sessionId);
        state.delete(key("agent_sessions", tenant, agentId + "/" + sessionId));
    }

    // ---- turns ----

    @Override
    public Map<String, Object> turn(String tenant, String agentId, String sessionId, Map<String, Object> request, Responses.Events events) {
        JsonNode config = agentRecord(tenant, agentId).get("agent_config");
        ObjectNode session = sessionRecord(tenant, agentId, sessionId);
        JsonNode body = Json.tree(request);
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must be a non-empty list");
        }
        List<Object> input = new ArrayList<>();
        for (JsonNode m : messages) {
            String role = m.path("role").asText("user");
            input.add(Map.of("type", "message", "role", role.equals("system") ? "system" : "user", "content", text(m.get("content"))));
        }
        String turnId = java.util.UUID.randomUUID().toString();
        ObjectNode turn = Json.object().put("turn_id", turnId).put("session_id", sessionId).put("started_at", Instant.now(clock).toString());
        turn.set("input_messages", messages);
        turn.putArray("steps");
        return run(tenant, agentId, session, turn, request(config, input, textOrNull(session.get("last_response_id"))), events);
    }

    @Override
    public Map<String, Object> resume(String tenant, String agentId, String sessionId, String turnId, Map<String, Object> request,
                                      Responses.Events events) {
        JsonNode config = agentRecord(tenant, agentId).get("agent_config");
        ObjectNode session = sessionRecord(tenant, agentId, sessionId);
        ObjectNode turn = null;
        for (JsonNode t : session.path("turns")) {
            if (t.path("turn_id").asText().equals(turnId)) {
                turn = (ObjectNode) t.deepCopy();
            }
        }
        if (turn == null) {
            throw new NotFoundException("turn_id", "no turn '" + turnId + "' in session '" + sessionId + "'");
        }
        if (turn.hasNonNull("completed_at")) {
            throw new InvalidRequestException("turn_id", "turn '" + turnId + "' is complete; only a turn awaiting tool results resumes");
        }
        JsonNode answers = Json.tree(request).get("tool_responses");
        if (answers == null || !answers.isArray() || answers.isEmpty()) {
            throw new InvalidRequestException("tool_responses", "tool_responses must be a non-empty list");
        }
        List<Object> input = new ArrayList<>();
        for (JsonNode a : answers) {
            input.add(Map.of("type", "function_call_output", "call_id", a.path("call_id").asText(), "output", text(a.get("content"))));
        }
        return run(tenant, agentId, session, turn, request(config, input, turn.path("response_id").asText()), events);
    }

    @Override
    public Map<String, Object> getTurn(String tenant, String agentId, String sessionId, String turnId) {
        for (JsonNode t : sessionRecord(tenant, agentId, sessionId).path("turns")) {
            if (t.path("turn_id").asText().equals(turnId)) {
                ObjectNode copy = (ObjectNode) t.deepCopy();
                copy.remove("response_id");
                return Json.plain(copy);
            }
        }
        throw new NotFoundException("turn_id", "no turn '" + turnId + "' in session '" + sessionId + "'");
    }

    /** Runs the response of a turn (streaming Llama Stack's events), folds it into the turn, and stores the session. */
    private Map<String, Object> run(String tenant, String agentId, ObjectNode session, ObjectNode turn, Map<String, Object> req,
                                    Responses.Events events) {
        String turnId = turn.get("turn_id").asText();
        String inferenceStep = java.util.UUID.randomUUID().toString();
        if (events != null) {
            event(events, Json.object().put("event_type", "turn_start").put("turn_id", turnId));
            event(events, Json.object().put("event_type", "step_start").put("step_type", "inference").put("step_id", inferenceStep));
        }
        Map<String, Object> response = responses.create(tenant, req, events == null ? null : (type, e) -> {
            if (type.equals("response.output_text.delta")) {
                ObjectNode p = Json.object().put("event_type", "step_progress").put("step_type", "inference").put("step_id", inferenceStep);
                p.putObject("delta").put("type", "text").put("text", String.valueOf(e.get("delta")));
                event(events, p);
            }
        });
        JsonNode r = Json.tree(response);
        StringBuilder text = new StringBuilder();
        ArrayNode calls = Json.array();
        ArrayNode steps = (ArrayNode) turn.get("steps");
        String now = Instant.now(clock).toString();
        for (JsonNode item : r.path("output")) {
            switch (item.path("type").asText()) {
                case "message" -> item.path("content").forEach(c -> {
                    if (c.path("type").asText().equals("refusal")) {
                        ObjectNode shield = steps.addObject().put("step_type", "shield_call").put("step_id", java.util.UUID.randomUUID().toString())
                                .put("turn_id", turnId).put("started_at", now).put("completed_at", now);
                        shield.putObject("violation").put("violation_level", "error").put("user_message", c.path("refusal").asText())
                                .putObject("metadata");
                        text.append(c.path("refusal").asText());
                    } else {
                        text.append(c.path("text").asText());
                    }
                });
                case "function_call" -> calls.add(call(item.path("call_id").asText(), item.path("name").asText(), item.path("arguments").asText("{}")));
                case "file_search_call", "web_search_call", "mcp_call" -> {
                    String name = switch (item.path("type").asText()) {
                        case "file_search_call" -> "knowledge_search";
                        case "web_search_call" -> "web_search";
                        default -> item.path("name").asText();
                    };
                    ObjectNode step = steps.addObject().put("step_type", "tool_execution").put("step_id", java.util.UUID.randomUUID().toString())
                            .put("turn_id", turnId).put("started_at", now).put("completed_at", now);
                    step.putArray("tool_calls").add(call(item.path("id").asText(), name, item.has("arguments") ? item.get("arguments").asText()
                            : Json.text(Json.object().put("query", item.path("queries").path(0).asText(item.path("action").path("query").asText())))));
                    String content = item.has("output") ? item.path("output").asText() : item.has("results") ? Json.text(item.get("results")) : "";
                    step.putArray("tool_responses").addObject().put("call_id", item.path("id").asText()).put("tool_name", name).put("content", content);
                    if (events != null) {
                        event(events, Json.object().put("event_type", "step_complete").put("step_type", "tool_execution")
                                .put("step_id", step.get("step_id").asText()).set("step_details", step));
                    }
                }
                default -> {
                    // tool lists and approvals have no 0.2.x step
                }
            }
        }
        String stopReason = !calls.isEmpty() ? "end_of_message"
                : r.path("incomplete_details").path("reason").asText("").equals("max_output_tokens") ? "out_of_tokens" : "end_of_turn";
        ObjectNode message = Json.object().put("role", "assistant").put("content", text.toString()).put("stop_reason", stopReason);
        message.set("tool_calls", calls);
        ObjectNode inference = steps.addObject().put("step_type", "inference").put("step_id", inferenceStep).put("turn_id", turnId)
                .put("started_at", turn.path("started_at").asText()).put("completed_at", now);
        inference.set("model_response", message.deepCopy());
        turn.set("output_message", message);
        turn.putArray("output_attachments");
        turn.put("response_id", r.path("id").asText());
        boolean awaiting = !calls.isEmpty();
        if (awaiting) {
            turn.putNull("completed_at");
        } else {
            turn.put("completed_at", now);
        }
        ArrayNode turns = (ArrayNode) session.get("turns");
        int at = -1;
        for (int i = 0; i < turns.size(); i++) {
            if (turns.get(i).path("turn_id").asText().equals(turnId)) {
                at = i;
            }
        }
        if (at >= 0) {
            turns.set(at, turn);
        } else {
            turns.add(turn);
        }
        session.put("last_response_id", r.path("id").asText());
        state.set(key("agent_sessions", tenant, agentId + "/" + session.get("session_id").asText()), Json.text(session));
        ObjectNode answer = turn.deepCopy();
        answer.remove("response_id");
        if (events != null) {
            event(events, Json.object().put("event_type", "step_complete").put("step_type", "inference").put("step_id", inferenceStep)
                    .set("step_details", inference));
            event(events, Json.object().put("event_type", awaiting ? "turn_awaiting_input" : "turn_complete").set("turn", answer));
        }
        return Json.plain(answer);
    }

    private static ObjectNode call(String id, String name, String arguments) {
        ObjectNode c = Json.object().put("call_id", id).put("tool_name", name).put("arguments_json", arguments);
        try {
            c.set("arguments", Json.MAPPER.readTree(arguments));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            c.put("arguments", arguments);
        }
        return c;
    }

    private static void event(Responses.Events events, ObjectNode payload) {
        ObjectNode e = Json.object();
        e.putObject("event").set("payload", payload);
        events.event(payload.get("event_type").asText(), Json.plain(e));
    }

    /**
     * The agent config's plain fields, as Llama Stack's schema types them: instructions a string, max_infer_iters a whole
     * number of at least 1, and sampling_params' numbers numbers (a wrong type was read as 0 or dropped, turn after turn).
     */
    private static void checkConfig(JsonNode config) {
        if (config.hasNonNull("instructions") && !config.get("instructions").isTextual()) {
            throw new InvalidRequestException("agent_config.instructions", "agent_config.instructions must be a string");
        }
        Checks.whole(config, "max_infer_iters", "agent_config.max_infer_iters", 1);
        JsonNode sampling = config.get("sampling_params");
        if (sampling == null || sampling.isNull()) {
            return;
        }
        if (!sampling.isObject()) {
            throw new InvalidRequestException("agent_config.sampling_params", "agent_config.sampling_params must be an object");
        }
        String at = "agent_config.sampling_params.";
        Checks.number(sampling, "max_tokens", at + "max_tokens");
        Checks.number(sampling, "repetition_penalty", at + "repetition_penalty");
        for (String key : List.of("temperature", "top_p", "top_k")) {
            Checks.number(sampling.path("strategy"), key, at + "strategy." + key);
        }
    }

    /** The Responses request of a turn: the agent's model, instructions, tools, shields and sampling. */
    private static Map<String, Object> request(JsonNode config, List<Object> input, String previous) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", config.path("model").asText());
        if (config.hasNonNull("instructions")) {
            r.put("instructions", config.get("instructions").asText());
        }
        r.put("input", input);
        if (previous != null && !previous.isBlank()) {
            r.put("previous_response_id", previous);
        }
        List<Object> tools = new ArrayList<>();
        for (JsonNode t : config.path("client_tools")) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("type", "function");
            f.put("name", t.path("name").asText());
            f.put("description", t.path("description").asText(""));
            f.put("parameters", Json.MAPPER.convertValue(schema(t), Map.class));
            tools.add(f);
        }
        for (JsonNode g : config.path("toolgroups")) {
            String name = g.isTextual() ? g.asText() : g.path("name").asText();
            if (name.startsWith("builtin::rag")) {
                List<String> ids = new ArrayList<>();
                g.path("args").path("vector_db_ids").forEach(id -> ids.add(id.asText()));
                if (ids.isEmpty()) {
                    throw new InvalidRequestException("toolgroups", "builtin::rag needs args.vector_db_ids");
                }
                tools.add(Map.of("type", "file_search", "vector_store_ids", ids));
            } else if (name.startsWith("builtin::websearch")) {
                tools.add(Map.of("type", "web_search"));
            } else {
                throw new InvalidRequestException("toolgroups", "toolgroup '" + name + "' is not served (builtin::rag and builtin::websearch are)");
            }
        }
        if (!tools.isEmpty()) {
            r.put("tools", tools);
        }
        List<String> shields = new ArrayList<>();
        config.path("input_shields").forEach(s -> shields.add(s.asText()));
        config.path("output_shields").forEach(s -> {
            if (!shields.contains(s.asText())) {
                shields.add(s.asText());
            }
        });
        if (!shields.isEmpty()) {
            r.put("guardrails", shields);
        }
        if (config.hasNonNull("max_infer_iters")) {
            r.put("max_infer_iters", config.get("max_infer_iters").asInt());
        }
        JsonNode sampling = config.path("sampling_params");
        JsonNode strategy = sampling.path("strategy");
        if (strategy.path("type").asText("").equals("greedy")) {
            r.put("temperature", 0.0);
        } else if (strategy.hasNonNull("temperature")) {
            r.put("temperature", strategy.get("temperature").asDouble());
            if (strategy.hasNonNull("top_p")) {
                r.put("top_p", strategy.get("top_p").asDouble());
            }
        }
        if (sampling.path("max_tokens").asInt(0) > 0) {
            r.put("max_output_tokens", sampling.get("max_tokens").asInt());
        }
        return r;
    }

    /** A client tool's parameters as JSON Schema: its {@code input_schema}, or 0.2.x's list of typed parameters. */
    private static JsonNode schema(JsonNode tool) {
        if (tool.hasNonNull("input_schema")) {
            return tool.get("input_schema");
        }
        ObjectNode s = Json.object().put("type", "object");
        ObjectNode props = s.putObject("properties");
        ArrayNode required = s.putArray("required");
        JsonNode params = tool.path("parameters");
        java.util.function.BiConsumer<String, JsonNode> add = (name, p) -> {
            String type = switch (p.path("parameter_type").asText(p.path("param_type").asText("string"))) {
                case "int", "integer" -> "integer";
                case "float", "number" -> "number";
                case "bool", "boolean" -> "boolean";
                case "list", "array" -> "array";
                case "dict", "object" -> "object";
                default -> "string";
            };
            props.putObject(name).put("type", type).put("description", p.path("description").asText(""));
            if (p.path("required").asBoolean(true)) {
                required.add(name);
            }
        };
        if (params.isArray()) {
            params.forEach(p -> add.accept(p.path("name").asText(), p));
        } else {
            params.properties().forEach(e -> add.accept(e.getKey(), e.getValue()));
        }
        return s;
    }

    private static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder b = new StringBuilder();
            content.forEach(c -> b.append(c.isTextual() ? c.asText() : c.path("text").asText()));
            return b.toString();
        }
        return content.path("text").asText(Json.text(content));
    }

    private static String textOrNull(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }
}

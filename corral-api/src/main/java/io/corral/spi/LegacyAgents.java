package io.corral.spi;

import java.util.List;
import java.util.Map;

/**
 * Llama Stack 0.2.x's agents API ({@code /v1/agents}: agents, sessions, turns, resuming a turn with client tool
 * results), run on the same loop as {@link Responses}: a turn is a response continuing its session's last one.
 * Requests and answers are Llama Stack's JSON as plain Java values, as {@link Responses} carries OpenAI's.
 */
public interface LegacyAgents {

    Map<String, Object> createAgent(String tenant, Map<String, Object> agentConfig);

    Map<String, Object> agent(String tenant, String agentId);

    List<Map<String, Object>> agents(String tenant);

    void deleteAgent(String tenant, String agentId);

    Map<String, Object> createSession(String tenant, String agentId, String name);

    Map<String, Object> session(String tenant, String agentId, String sessionId);

    List<Map<String, Object>> sessions(String tenant, String agentId);

    void deleteSession(String tenant, String agentId, String sessionId);

    /** Runs a turn ({@code messages}); its events (Llama Stack's turn and step events) to {@code events} when streamed. */
    Map<String, Object> turn(String tenant, String agentId, String sessionId, Map<String, Object> request, Responses.Events events);

    /** Continues a turn that awaits its client tools' results ({@code tool_responses}). */
    Map<String, Object> resume(String tenant, String agentId, String sessionId, String turnId, Map<String, Object> request,
                               Responses.Events events);

    Map<String, Object> getTurn(String tenant, String agentId, String sessionId, String turnId);
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.agents.LegacyAgentsService;
import io.corral.agents.ResponsesService;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.Role;
import io.corral.server.http.Json;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.call;
import static org.assertj.core.api.Assertions.assertThat;

/** Llama Stack 0.2.x's agents routes as its clients send them: an agent with a client tool, a session, a turn that awaits the tool, its resumption streamed. */
class LegacyAgentsApiTest {

    @TempDir
    Path dir;
    ScriptedProvider model;
    SqlKeyValueStore kv;
    ResponsesService responses;
    CorralServer server;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        model = ScriptedProvider.chat("p", "m");
        kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
        responses = new ResponsesService(id -> model, null, null, kv, Clock.systemUTC());
        server = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(model)).responses(responses)
                .legacyAgents(new LegacyAgentsService(responses, kv, Clock.systemUTC())).start();
    }

    @AfterEach
    void stop() {
        server.close();
        responses.close();
        kv.close();
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parse(r.body().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anAgentsTurn_awaitsItsClientTool_andResumesWithItsResult() throws Exception {
        model.then(call("get_weather", "{\"city\":\"Paris\"}"), answer("It is ", "sunny."), answer("You asked about Paris."));
        String agent = json(send("POST", "/v1/agents", """
                {"agent_config":{"model":"m","instructions":"You are a weather assistant.","max_infer_iters":5,
                 "enable_session_persistence":false,"sampling_params":{"strategy":{"type":"greedy"},"max_tokens":64},
                 "client_tools":[{"name":"get_weather","description":"The weather in a city",
                   "parameters":[{"name":"city","parameter_type":"string","description":"the city","required":true}]}]}}""")).path("agent_id").asText();
        String session = json(send("POST", "/v1/agents/" + agent + "/session", "{\"session_name\":\"trip\"}")).path("session_id").asText();
        JsonNode turn = json(send("POST", "/v1/agents/" + agent + "/session/" + session + "/turn",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"stream\":false}"));
        JsonNode toolCall = turn.path("output_message").path("tool_calls").get(0);
        assertThat(toolCall.path("tool_name").asText()).isEqualTo("get_weather");
        assertThat(toolCall.path("arguments").path("city").asText()).isEqualTo("Paris");
        assertThat(turn.path("completed_at").isNull()).isTrue();
        ChatRequest first = (ChatRequest) model.requests().getFirst();
        assertThat(first.messages().getFirst().text()).isEqualTo("You are a weather assistant.");
        assertThat(first.tools().getFirst().parameters()).contains("\"city\"").contains("\"required\":[\"city\"]");
        assertThat(first.sampling().maxTokens()).isEqualTo(64);

        String sse = send("POST", "/v1/agents/" + agent + "/session/" + session + "/turn/" + turn.path("turn_id").asText() + "/resume",
                "{\"tool_responses\":[{\"call_id\":\"" + toolCall.path("call_id").asText() + "\",\"tool_name\":\"get_weather\","
                        + "\"content\":\"sunny\"}],\"stream\":true}").body();
        List<String> types = new ArrayList<>();
        JsonNode completed = null;
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: ")) {
                JsonNode payload = Json.parse(line.substring(6).getBytes(StandardCharsets.UTF_8)).path("event").path("payload");
                types.add(payload.path("event_type").asText());
                if (payload.path("event_type").asText().equals("turn_complete")) {
                    completed = payload.path("turn");
                }
            }
        }
        assertThat(types).containsExactly("turn_start", "step_start", "step_progress", "step_progress", "step_complete", "turn_complete");
        assertThat(completed.path("output_message").path("content").asText()).isEqualTo("It is sunny.");
        assertThat(completed.path("turn_id").asText()).isEqualTo(turn.path("turn_id").asText());
        ChatMessage result = ((ChatRequest) model.requests().get(1)).messages().getLast();
        assertThat(result.role()).isEqualTo(Role.TOOL);
        assertThat(result.text()).isEqualTo("sunny");

        json(send("POST", "/v1/agents/" + agent + "/session/" + session + "/turn",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"What did I ask?\"}]}"));
        assertThat(((ChatRequest) model.requests().getLast()).messages()).hasSize(6); // the session's history
        JsonNode got = json(send("GET", "/v1/agents/" + agent + "/session/" + session, null));
        assertThat(got.path("turns")).hasSize(2);
        assertThat(got.path("session_name").asText()).isEqualTo("trip");
        assertThat(send("GET", "/v1/agents/nope", null).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/v1/agents", "{\"agent_config\":{\"model\":\"m\",\"toolgroups\":[\"builtin::code_interpreter\"]}}").statusCode())
                .isEqualTo(400);
        // an agent config's fields of the wrong type are refused when it is made, naming the field (not read as 0 at each turn)
        for (String[] bad : new String[][]{{"\"instructions\":5", "agent_config.instructions"},
                {"\"max_infer_iters\":\"many\"", "agent_config.max_infer_iters"},
                {"\"sampling_params\":{\"max_tokens\":\"x\"}", "agent_config.sampling_params.max_tokens"},
                {"\"sampling_params\":{\"strategy\":{\"type\":\"top_p\",\"temperature\":\"hot\"}}", "agent_config.sampling_params.strategy.temperature"}}) {
            HttpResponse<String> r = send("POST", "/v1/agents", "{\"agent_config\":{\"model\":\"m\"," + bad[0] + "}}");
            assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
            assertThat(Json.parse(r.body().getBytes(StandardCharsets.UTF_8)).at("/error/param").asText()).as(bad[0]).isEqualTo(bad[1]);
        }
        assertThat(send("DELETE", "/v1/agents/" + agent, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/v1/agents/" + agent + "/session/" + session, null).statusCode()).isEqualTo(404);
    }
}

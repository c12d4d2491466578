package io.corral.agents;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.api.UrlPolicy;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code mcp} tool against a real MCP server (the official server-everything, over streamable HTTP). */
class McpToolTest {

    static TestMcpServer mcp;

    @BeforeAll
    static void start() throws Exception {
        mcp = TestMcpServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        mcp.close();
    }

    private static ResponsesService service(ScriptedProvider model) {
        return new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC(), UrlPolicy.ANY);
    }

    private static Map<String, Object> tool(Object requireApproval, Object allowed) {
        Map<String, Object> t = new java.util.LinkedHashMap<>(Map.of("type", "mcp", "server_label", "everything", "server_url", mcp.url));
        if (requireApproval != null) {
            t.put("require_approval", requireApproval);
        }
        if (allowed != null) {
            t.put("allowed_tools", allowed);
        }
        return t;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> output(Map<String, Object> response) {
        return (List<Map<String, Object>>) response.get("output");
    }

    @Test
    void theServersTools_areListed_offered_andCalled_withinTheResponse() {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(call("echo", "{\"message\":\"hello\"}"), answer("It said hello."));
        Map<String, Object> withSecrets = new java.util.LinkedHashMap<>(tool("never", null));
        withSecrets.put("authorization", "sk-mcp-secret");
        withSecrets.put("headers", Map.of("X-Api-Key", "hdr-secret"));
        ResponsesService s = service(model);
        Map<String, Object> r = s.create("t", Map.of("model", "m", "input", "Echo hello", "tools", List.of(withSecrets)), null);
        for (Object shown : List.of(r, s.get("t", String.valueOf(r.get("id"))))) { // the credentials are used, never echoed or kept
            assertThat(shown.toString()).contains("everything").doesNotContain("sk-mcp-secret").doesNotContain("hdr-secret");
        }
        List<Map<String, Object>> out = output(r);
        assertThat(out).extracting(i -> i.get("type")).containsExactly("mcp_list_tools", "mcp_call", "message");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) out.get(0).get("tools");
        assertThat(listed).extracting(t -> t.get("name")).contains("echo", "get-sum");
        assertThat(out.get(1)).containsEntry("name", "echo").containsEntry("output", "Echo: hello").containsEntry("server_label", "everything");
        assertThat(((ChatRequest) model.requests().getFirst()).tools()).extracting(io.corral.api.ToolSpec::name).contains("echo", "get-sum");
        ChatMessage last = ((ChatRequest) model.requests().getLast()).messages().getLast();
        assertThat(last.role()).isEqualTo(Role.TOOL);
        assertThat(last.text()).isEqualTo("Echo: hello");
    }

    @Test
    void aCallNeedingApproval_endsTheResponseWithTheQuestion_andTheAnswerMakesIt() {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(call("get-sum", "{\"a\":2,\"b\":3}"), answer("It is 5."));
        ResponsesService s = service(model);
        Map<String, Object> asked = s.create("t", Map.of("model", "m", "input", "2+3?", "tools", List.of(tool(null, List.of("get-sum")))), null);
        Map<String, Object> request = output(asked).getLast();
        assertThat(request).containsEntry("type", "mcp_approval_request").containsEntry("name", "get-sum");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) output(asked).getFirst().get("tools");
        assertThat(listed).extracting(t -> t.get("name")).containsExactly("get-sum"); // allowed_tools
        Map<String, Object> done = s.create("t", Map.of("model", "m", "previous_response_id", asked.get("id"),
                "tools", List.of(tool(null, List.of("get-sum"))),
                "input", List.of(Map.of("type", "mcp_approval_response", "approval_request_id", request.get("id"), "approve", true))), null);
        assertThat(output(done)).extracting(i -> i.get("type")).containsExactly("mcp_list_tools", "mcp_call", "message");
        assertThat(String.valueOf(output(done).get(1).get("output"))).contains("The sum of 2 and 3 is 5");
        assertThat(model.requests()).hasSize(2);
    }

    @Test
    void privateAddresses_areRefused_unlessTheConfigAllowsThem_andAServerThatIsDown_isAnItemsError() {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer("ok"));
        ResponsesService publicOnly = new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC());
        for (String url : List.of(mcp.url, "http://localhost:1/mcp", "http://169.254.169.254/mcp", "http://10.0.0.1/mcp", "http://[::1]:1/mcp")) {
            assertThatThrownBy(() -> publicOnly.create("t", Map.of("model", "m", "input", "x", "tools",
                    List.of(Map.of("type", "mcp", "server_label", "s", "server_url", url))), null))
                    .as(url).isInstanceOf(InvalidRequestException.class).hasMessageContaining("private address");
        }
        assertThatThrownBy(() -> publicOnly.create("t", Map.of("model", "m", "input", List.of(Map.of("role", "user", "content", List.of(
                Map.of("type", "input_text", "text", "what is it?"),
                Map.of("type", "input_image", "image_url", "http://169.254.169.254/latest/meta-data/"))))), null))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.param()).isEqualTo("input[0].content[1].image_url");
                    assertThat(e.getMessage()).contains("private address (169.254.169.254)");
                });
        assertThat(model.requests()).isEmpty();
        Map<String, Object> r = service(model).create("t", Map.of("model", "m", "input", "x", "tools",
                List.of(Map.of("type", "mcp", "server_label", "down", "server_url", "http://127.0.0.1:1/mcp"))), null);
        assertThat(output(r).getFirst()).containsEntry("type", "mcp_list_tools").containsKey("error");
        assertThat(r.get("status")).isEqualTo("completed");
    }
}

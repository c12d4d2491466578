package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.agents.LegacyAgentsService;
import io.corral.agents.ResponsesService;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import io.corral.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.call;
import static org.assertj.core.api.Assertions.assertThat;

/** Llama Stack 0.2.x's agent routes driven by its official TypeScript client (llama-stack-client 0.2.23 from npm, run by node). */
class LlamaStackClientTest {

    static final String VERSION = "0.2.23";

    static Path client() throws Exception {
        return TestServers.npmPackage("llama-stack-client", VERSION, "llama-stack-client/index.js");
    }

    @Test
    void theOfficialClient_runsAnAgentTurn_awaitsItsTool_andResumesIt(@TempDir Path dir) throws Exception {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(call("get_weather", "{\"city\":\"Paris\"}"), answer("It is ", "sunny."));
        try (SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             ResponsesService responses = new ResponsesService(id -> model, null, null, kv, Clock.systemUTC());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(model))
                     .responses(responses).legacyAgents(new LegacyAgentsService(responses, kv, Clock.systemUTC())).start()) {
            JsonNode seen = NodeScript.run(client(), "llama-stack-client-agent.cjs", dir, server.url());
            assertThat(seen.path("tool").asText()).isEqualTo("get_weather");
            assertThat(seen.path("city").asText()).isEqualTo("Paris");
            assertThat(seen.path("answer").asText()).isEqualTo("It is sunny.");
            assertThat(seen.path("types").toString()).isEqualTo(
                    "[\"turn_start\",\"step_start\",\"step_progress\",\"step_progress\",\"step_complete\",\"turn_complete\"]");
            assertThat(seen.path("sessions").asInt()).isEqualTo(1);
            assertThat(seen.path("steps").toString()).isEqualTo("[\"inference\",\"inference\"]");
        }
    }
}

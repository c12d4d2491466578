package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.engines.EngineRegistry;
import io.corral.engines.EngineStatus;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway Corral with its own engine, a second real Corral as a remote llama.cpp-style host, and a
 * dead host, all from the environment's host lists: discovery, merged runners, health, reload.
 */
class EnginesTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static JsonNode call(String method, String url, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = new ObjectMapper().readTree(r.body());
        ((com.fasterxml.jackson.databind.node.ObjectNode) json).put("_status", r.statusCode());
        return json;
    }

    static String chat(String model) {
        return "{\"model\":\"" + model + "\",\"temperature\":0,\"max_tokens\":5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}";
    }

    @Test
    void discoveryHealthAndReload() throws Exception {
        CorralServer upstream = CorralServer.start(ServerConfig.defaults().withPort(0),
                List.of(LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1))));
        Map<String, String> env = Map.of("LLAMACPP_HOSTS", upstream.url(), "VLLM_HOSTS", "http://127.0.0.1:1/v1");
        EngineRegistry registry = new EngineRegistry(
                List.of(LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1))),
                EngineRegistry.hostsFrom(env), new Router.Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ofMillis(1)),
                Ticker.system(), Clock.systemUTC());
        long t0 = System.nanoTime();
        registry.discover();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8)); // the dead host did not block

        try (CorralServer gateway = CorralServer.start(ServerConfig.defaults().withPort(0), registry)) {
            String base = gateway.url();
            JsonNode engines = call("GET", base + "/v1/engines", null);
            assertThat(engines.get("data")).hasSize(3);
            String remoteId = "llamacpp@127.0.0.1:" + upstream.port();
            JsonNode remote = call("GET", base + "/v1/engines/" + remoteId, null);
            assertThat(remote.get("status").asText()).isEqualTo("up");
            assertThat(remote.get("provider").asText()).isEqualTo("remote::llamacpp");
            assertThat(remote.get("base_url").asText()).isEqualTo(upstream.url() + "/v1");
            assertThat(remote.get("latency_ms").asLong()).isNotNegative();
            assertThat(remote.get("models").get(0).get("id").asText()).isEqualTo("stories260K");
            assertThat(remote.get("models").get(0).get("model_type").asText()).isEqualTo("llm");
            assertThat(remote.get("models").get(0).has("device")).as("a remote host does not say its device").isFalse();
            // the in-process engine says where its model runs: no GPU here, so the CPU, with none of its 6 layers offloaded
            JsonNode inProcess = java.util.stream.StreamSupport.stream(engines.get("data").spliterator(), false)
                    .filter(e -> e.get("provider").asText().equals("inline::llamacpp")).findFirst().orElseThrow();
            assertThat(inProcess.at("/models/0/device").asText()).isEqualTo("CPU");
            assertThat(inProcess.at("/models/0/backend").asText()).isEqualTo("cpu");
            assertThat(inProcess.at("/models/0/gpu_layers").asInt()).isZero();
            assertThat(inProcess.at("/models/0/offloadable_layers").asInt()).isEqualTo(6);
            assertThat(inProcess.at("/models/0/device_memory").asLong()).isZero();
            JsonNode dead = call("GET", base + "/v1/engines/vllm@127.0.0.1:1", null);
            assertThat(dead.get("status").asText()).isEqualTo("down");
            assertThat(dead.get("last_error").asText()).contains("cannot connect");
            assertThat(dead.get("models")).isEmpty();

            // one model, two runners; the remote one also reachable pinned
            JsonNode models = call("GET", base + "/v1/models", null);
            assertThat(models.get("data").findValuesAsText("id")).containsExactly("stories260K");
            assertThat(registry.models().get("stories260K").runners()).hasSize(2);
            JsonNode local = call("POST", base + "/v1/chat/completions", chat("stories260K"));
            JsonNode pinned = call("POST", base + "/v1/chat/completions", chat(remoteId + "/stories260K"));
            assertThat(local.at("/choices/0/message/content").asText()).isEqualTo(", there was a little");
            assertThat(pinned.at("/choices/0/message/content").asText()).isEqualTo(", there was a little");

            // the remote host goes away: a probe marks it down, its pinned model is unavailable, the merged one still served
            upstream.close();
            registry.probeAll();
            assertThat(registry.engine(remoteId).status()).isEqualTo(EngineStatus.Status.DOWN);
            assertThat(registry.engine(remoteId).lastError()).contains("cannot connect");
            assertThat(registry.engine(remoteId).lastSuccess()).isNotNull();
            assertThat(call("POST", base + "/v1/chat/completions", chat(remoteId + "/stories260K")).get("_status").asInt())
                    .isEqualTo(503);
            assertThat(call("POST", base + "/v1/chat/completions", chat("stories260K")).get("_status").asInt()).isEqualTo(200);

            // the CLI shows the same, one line per engine
            java.io.StringWriter out = new java.io.StringWriter();
            picocli.CommandLine cli = io.corral.cli.CorralCli.commandLine();
            cli.setOut(new java.io.PrintWriter(out));
            assertThat(cli.execute("engines", "--url", base)).isZero();
            assertThat(out.toString()).contains("ENGINE").contains(remoteId).contains("down").contains("cannot connect")
                    .containsPattern("llamacpp\\s+inline::llamacpp\\s+up");
            java.io.StringWriter reloadOut = new java.io.StringWriter();
            cli.setOut(new java.io.PrintWriter(reloadOut));
            assertThat(cli.execute("engines", "reload", "--url", base, "--json")).isZero();
            assertThat(reloadOut.toString()).contains("\"base_url\"");
            java.io.StringWriter err = new java.io.StringWriter();
            cli.setErr(new java.io.PrintWriter(err));
            assertThat(cli.execute("engines", "--url", "http://127.0.0.1:1")).isEqualTo(1);
            assertThat(err.toString()).startsWith("corral: no Corral server at http://127.0.0.1:1");

            // reload re-discovers: the gone host has no models any more
            JsonNode reloaded = call("POST", base + "/v1/engines/reload", null);
            assertThat(reloaded.get("_status").asInt()).isEqualTo(200);
            assertThat(call("GET", base + "/v1/engines/" + remoteId, null).get("status").asText()).isEqualTo("down");
            JsonNode providers = call("GET", base + "/v1/providers", null).get("data");
            assertThat(providers.findValuesAsText("provider_type"))
                    .containsExactlyInAnyOrder("inline::llamacpp", "remote::llamacpp", "remote::vllm");
        }
    }
}

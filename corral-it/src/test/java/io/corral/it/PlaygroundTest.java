package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web playground end to end: a real {@code corral serve} (the bundled model, an API key, a remote host that the
 * browser's script serves and then stops), Debian's Chromium driven by playwright-core ({@code playground-e2e.cjs}).
 * The screenshots in {@code docs/playground/} are this test's.
 */
class PlaygroundTest {

    static final String PLAYWRIGHT = "1.65.1";
    static final String AXE = "4.14.1";
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void thePlayground_inARealBrowser(@TempDir Path dir) throws Exception {
        assertThat(CHROMIUM).as("Chromium (./build test installs it with apt-get)").isExecutable();
        Path playwright = TestServers.npmPackage("playwright-core", PLAYWRIGHT, "playwright-core/index.js");
        Path axe = TestServers.npmPackage("axe-core", AXE, "axe-core/axe.min.js");
        int port = ServeFlagsTest.freePort();
        int enginePort = ServeFlagsTest.freePort();
        String key = "sk-playground-test-key";
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder serve = new ProcessBuilder(List.of(javaBin, "--enable-native-access=ALL-UNNAMED",
                "-Dcorral.cache=" + dir.resolve("cache"), "-cp", System.getProperty("java.class.path"), "io.corral.cli.CorralCli",
                "serve", "--port", Integer.toString(port), "--api-key", key, "--health-interval", "1", "--threads", "1"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile());
        serve.environment().put("LLAMACPP_HOSTS", "http://127.0.0.1:" + enginePort);
        Process corral = serve.start();
        try {
            String base = "http://127.0.0.1:" + port;
            awaitHealthy(base, corral, dir.resolve("serve.log"));
            checkTheRoutes(base, key);

            Path upload = Files.writeString(dir.resolve("quokkas.md"), "# Quokkas\n\nQuokkas live on Rottnest Island and"
                    + " smile at visitors.\n");
            Path shots = Path.of(System.getProperty("corral.root", ".")).resolve("docs/playground");
            Files.createDirectories(shots);
            List<String> command = new ArrayList<>(List.of("node", script(dir).toString(), base, key, shots.toString(),
                    upload.toString(), Integer.toString(enginePort)));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("NODE_PATH", playwright.resolve("node_modules") + java.io.File.pathSeparator
                    + axe.resolve("node_modules"));
            pb.environment().put("CHROMIUM", CHROMIUM.toString());
            Process node = pb.start();
            String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(node.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(node.exitValue()).as(out + "\nserve.log: " + Files.readString(dir.resolve("serve.log"))).isZero();
            JsonNode seen = new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElseThrow());

            assertThat(seen.get("errors")).as("errors in the page").isEmpty();
            assertThat(seen.get("title").asText()).isEqualTo("Corral playground");
            assertThat(seen.get("keyStatusBefore").asText()).isEqualTo("key needed");
            assertThat(texts(seen.get("models"))).contains("stories260K");
            // the answer arrived in pieces, each a longer prefix of the last, ending at the bundled model's text
            List<String> steps = texts(seen.get("chatSteps"));
            assertThat(steps).hasSizeGreaterThan(2);
            for (int i = 1; i < steps.size(); i++) {
                assertThat(steps.get(i)).startsWith(steps.get(i - 1));
            }
            assertThat(seen.get("chatText").asText()).isEqualTo(steps.getLast()).startsWith(", there was a little girl named Lily");
            assertThat(seen.get("stoppedEnabled").asBoolean()).isTrue();
            assertThat(seen.get("stoppedStopDisabled").asBoolean()).isTrue();
            assertThat(seen.get("conversationsKept").asInt()).isEqualTo(4);
            JsonNode named = new ObjectMapper().readTree(seen.get("schemaAnswer").asText());
            assertThat(named.get("name").isTextual()).as(seen.get("schemaAnswer").asText()).isTrue();

            assertThat(texts(seen.get("files"))).containsExactlyInAnyOrder("zebras.txtcompleted", "quokkas.mdcompleted");
            assertThat(texts(seen.get("search"))).singleElement().asString().startsWith("quokkas.md keyword score ")
                    .contains("Rottnest Island");
            assertThat(texts(seen.get("compare"))).containsExactly("vector: zebras.txt", "keyword: zebras.txt", "hybrid: zebras.txt");

            assertThat(seen.get("tracesForModel").asInt()).isGreaterThanOrEqualTo(2);
            assertThat(texts(seen.get("spans"))).hasSizeGreaterThan(1).first().asString().contains("chat");
            assertThat(seen.get("tracesForNothing").asText()).isEqualTo("No trace.");

            assertThat(seen.get("engineUp").asText()).contains("llamacpp@127.0.0.1:" + enginePort).contains("up");
            assertThat(seen.get("engineDownColor").asText()).isEqualTo("rgb(164, 14, 38)"); // red
            assertThat(seen.get("engineDownRow").asText()).isEqualTo("down");
            assertThat(texts(seen.get("charts"))).contains("Requests per second", "Generated tokens per second");

            assertThat(texts(seen.get("agentSteps"))).startsWith("model call").contains("answer");
            assertThat(texts(seen.get("functionSteps"))).containsSubsequence("model call", "tool call", "tool result",
                    "model call", "answer");
            assertThat(seen.get("functionCall").asText()).startsWith("lookup({");

            seen.get("axe").fields().forEachRemaining(e -> assertThat(e.getValue()).as("axe on " + e.getKey()).isEmpty());
            seen.get("overflow").fields().forEachRemaining(e -> assertThat(e.getValue().asInt())
                    .as("sideways scroll at 390 px on " + e.getKey()).isLessThanOrEqualTo(0));
            assertThat(texts(seen.get("keyboard"))).containsExactly("tab-knowledge", "true");
            assertThat(seen.get("keyboardEnd").asText()).isEqualTo("tab-traces");
            for (String shot : List.of("chat.png", "knowledge.png", "traces.png", "engines.png", "agents.png", "chat-390px.png")) {
                assertThat(shots.resolve(shot)).isNotEmptyFile();
            }
        } finally {
            corral.destroy();
            corral.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The page's files need no key and carry a strict policy; the API still does; Ollama's probe still answers. */
    private static void checkTheRoutes(String base, String key) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/")).header("Accept", "text/html").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("content-security-policy").orElse("")).contains("script-src 'self'");
        assertThat(page.body()).contains("<title>Corral playground</title>");
        HttpResponse<String> script = http.send(HttpRequest.newBuilder(URI.create(base + "/playground/app.js")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/playground/../pom.xml")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/playground/secret.txt")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString()).body())
                .isEqualTo("Ollama is running");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    private static void awaitHealthy(String base, Process corral, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (corral.isAlive() && System.nanoTime() < deadline) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/v1/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // starting
            }
            Thread.sleep(100); // polling a process's port: there is no event to wait on
        }
        throw new AssertionError("serve did not start: " + Files.readString(log));
    }

    private static Path script(Path dir) throws Exception {
        Path script = dir.resolve("playground-e2e.cjs");
        try (var in = PlaygroundTest.class.getResourceAsStream("/playground-e2e.cjs")) {
            Files.write(script, in.readAllBytes());
        }
        return script;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}

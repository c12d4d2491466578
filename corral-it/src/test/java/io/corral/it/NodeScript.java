package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.testing.TestServers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs a test resource's node script with an npm package installed for it; the JSON its last line prints. */
final class NodeScript {

    private NodeScript() {
    }

    static JsonNode run(Path npmHome, String resource, Path dir, String... args) throws Exception {
        Path script = dir.resolve(resource);
        try (var in = NodeScript.class.getResourceAsStream("/" + resource)) {
            Files.write(script, in.readAllBytes());
        }
        List<String> command = new ArrayList<>(List.of("node", script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("NODE_PATH", npmHome.resolve("node_modules").toString());
        Process node = pb.start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as(out).isZero();
        return new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElseThrow());
    }

    static Path ollama() throws Exception {
        return TestServers.npmPackage("ollama", OllamaClientTest.VERSION, "ollama/dist/index.cjs");
    }
}

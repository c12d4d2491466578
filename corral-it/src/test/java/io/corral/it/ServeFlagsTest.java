package io.corral.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code corral serve --config FILE --port P}: flags given on the command line win over the file's server section. */
class ServeFlagsTest {

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static boolean healthy(HttpClient http, int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/health")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void portFlag_overridesTheConfigFile(@TempDir Path dir) throws Exception {
        int filePort = freePort();
        int flagPort = freePort();
        Path file = Files.writeString(dir.resolve("run.yaml"), """
                server: {port: %d, health_interval: 0}
                providers:
                  inference:
                    - provider_id: local
                      provider_type: inline::llamacpp
                      config: {model: '%s', threads: 1}
                """.formatted(filePort, OpenAiRemoteProviderTest.stories()));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process corral = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.corral.cli.CorralCli", "serve", "--config", file.toString(),
                "--port", Integer.toString(flagPort))).redirectErrorStream(true)
                .redirectOutput(dir.resolve("serve.log").toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!healthy(http, flagPort) && corral.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(healthy(http, flagPort)).as(() -> "serve.log: " + read(dir.resolve("serve.log"))).isTrue();
            assertThat(healthy(http, filePort)).isFalse();
        } finally {
            corral.destroy();
            corral.waitFor();
        }
    }

    @Test
    void modelRoutingAndGpuFlags_besideAConfigFile_areRefused_notIgnored(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("run.yaml"), "server: {port: 0}\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process corral = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.corral.cli.CorralCli", "serve", "--config", file.toString(),
                "-m", "other.gguf", "--routing", "remote-only", "--gpu-layers", "3")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("serve.log").toFile()).start();
        assertThat(corral.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(corral.exitValue()).isNotZero();
        assertThat(read(dir.resolve("serve.log"))).contains("--model, --routing, --gpu-layers cannot be combined with --config")
                .doesNotContain("Exception");
    }

    static Process serve(Path dir, Path file) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.corral.cli.CorralCli", "serve", "--config", file.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
    }

    @Test
    void anUnknownSectionOrProviderType_exitsNonZero_namingFileLineAndKey(@TempDir Path dir) throws Exception {
        String good = """
                server: {port: 0, health_interval: 0}
                providers:
                  inference:
                    - provider_id: local
                      provider_type: inline::llamacpp
                      config: {model: '%s', threads: 1}
                """.formatted(OpenAiRemoteProviderTest.stories());
        record Bad(String yaml, String says) {
        }
        for (Bad bad : List.of(
                new Bad(good + "  vectorio:\n    - provider_id: v\n      provider_type: inline::faiss\n", ":7: providers.vectorio: unknown key"),
                new Bad(good + "  safety:\n    - provider_id: guard\n      provider_type: inline::prompt-guard\n",
                        ":9: providers.safety[0].provider_type: unknown safety provider type 'inline::prompt-guard'"),
                new Bad(good.replace("threads: 1", "threads: 1, thread: 2"), ":6: providers.inference[0].config.thread: unknown key"))) {
            Path file = Files.writeString(dir.resolve("run.yaml"), bad.yaml());
            Process corral = serve(dir, file);
            assertThat(corral.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(corral.exitValue()).isNotZero();
            assertThat(read(dir.resolve("serve.log"))).contains(file + bad.says()).doesNotContain("Exception");
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(none)";
        }
    }
}

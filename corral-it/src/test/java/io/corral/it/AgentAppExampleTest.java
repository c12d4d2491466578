package io.corral.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code examples/agent-app.sh} runs as documented: serve on the embedded defaults with a knowledge folder, a turn that
 * searches it, a client tool, the rules shield, and the run's trace found by its run_id.
 */
class AgentAppExampleTest {

    @Test
    void theAgentAppExample_runsItsWholeFlow(@TempDir Path cache) throws Exception {
        Path root = Path.of(System.getProperty("corral.root", "..")).toAbsolutePath().normalize();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", root.resolve("examples/agent-app.sh").toString(), Integer.toString(port)))
                .directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("CORRAL_CMD", java + " -Dcorral.cache=" + cache + " --enable-native-access=ALL-UNNAMED"
                + " --sun-misc-unsafe-memory-access=allow -cp " + System.getProperty("java.class.path") + " io.corral.cli.CorralCli");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("Project Falcon launches in March.")
                .contains("the model called lookup_person with")
                .contains("prompt injection");
        String traces = out.lines().filter(l -> l.endsWith("traces with run_id demo-run-1")).findFirst().orElseThrow();
        assertThat(Integer.parseInt(traces.split(" ")[0])).isGreaterThanOrEqualTo(3);
    }
}

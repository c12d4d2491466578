package io.corral.it;

import io.corral.api.ChatRequest;
import io.corral.api.SamplingParams;
import io.corral.config.ConfigLoader;
import io.corral.config.Distribution;
import io.corral.engines.EngineRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/** A managed engine (another `corral serve` process) started from config, crashed, restarted, stopped. */
class ManagedEngineProcessTest {

    @Test
    void startedFromConfig_restartedAfterACrash_stoppedWithCorral(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = java + " --enable-native-access=ALL-UNNAMED -cp " + System.getProperty("java.class.path")
                + " io.corral.cli.CorralCli serve --port " + port + " --threads 1 --health-interval 0 --model "
                + OpenAiRemoteProviderTest.stories();
        Path file = Files.writeString(dir.resolve("run.yaml"), """
                server: {routing: local-first, health_interval: 0}
                providers:
                  inference:
                    - provider_id: child
                      provider_type: remote::llamacpp
                      config:
                        command: '%s'
                        port: %d
                        startup_timeout: 60
                """.formatted(command, port));
        List<String> logs = new ArrayList<>();
        Logger childLog = Logger.getLogger("corral.engine.child");
        Handler h = new Handler() {
            public void publish(LogRecord r) { synchronized (logs) { logs.add(r.getMessage()); } }
            public void flush() { }
            public void close() { }
        };
        childLog.addHandler(h);
        ChatRequest ask = ChatRequest.builder().model("stories260K").user("Once upon a time")
                .sampling(SamplingParams.builder().temperature(0).maxTokens(3).build()).build();
        long pid;
        assertThat(ProcessHandle.current().children().anyMatch(ProcessHandle::isAlive)).isFalse();
        try (EngineRegistry registry = Distribution.open(file, ConfigLoader.load(file, Map.<String, String>of()::get), Map.of())) {
            assertThat(registry.engine("child").status().name()).as(() -> registry.engine("child") + " " + logs).isEqualTo("UP");
            assertThat(registry.resolve("stories260K").chat(ask).text()).isEqualTo(", there was");
            pid = ProcessHandle.current().children().filter(ProcessHandle::isAlive).findFirst().orElseThrow().pid();

            ProcessHandle child = ProcessHandle.of(pid).orElseThrow();
            child.destroyForcibly(); // the engine crashes
            child.onExit().join();
            registry.probeAll();
            assertThat(registry.engine("child").status().name()).isEqualTo("DOWN");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (registry.engine("child").status().name().equals("DOWN") && System.nanoTime() < deadline) {
                Thread.sleep(200);
                registry.probeAll(); // what the health monitor does on its interval
            }
            assertThat(registry.engine("child").status().name()).as(() -> registry.engine("child") + " " + logs).isEqualTo("UP");
            assertThat(registry.resolve("stories260K").chat(ask).text()).isEqualTo(", there was");
            assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).findFirst().orElseThrow().pid())
                    .isNotEqualTo(pid);
        } finally {
            childLog.removeHandler(h);
        }
        synchronized (logs) {
            assertThat(logs).anyMatch(l -> l.contains("listening on http://127.0.0.1:" + port));
            assertThat(logs).anyMatch(l -> l.contains("exited with code") && l.contains("restarting"));
        }
        for (ProcessHandle c : ProcessHandle.current().children().toList()) { // the engine is stopped with Corral
            assertThat(c.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
        }
    }
}

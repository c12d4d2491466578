package io.corral.engines;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManagedEngineTest {

    static ManagedEngine.Spec spec(List<String> command, boolean allowRemote) {
        return new ManagedEngine.Spec("e", command, 9999, "/health", Duration.ofSeconds(1), allowRemote, Map.of());
    }

    @Test
    void loopbackIsAddedForEnginesThatTakeAHost_andARemoteHostNeedsPermission() {
        assertThat(ManagedEngine.loopbackOnly(spec(List.of("/opt/llama-server", "-m", "x.gguf", "--port", "9999"), false)))
                .endsWith("--host", "127.0.0.1");
        assertThat(ManagedEngine.loopbackOnly(spec(List.of("llama-server", "--host", "127.0.0.1"), false)))
                .containsExactly("llama-server", "--host", "127.0.0.1");
        assertThatThrownBy(() -> ManagedEngine.loopbackOnly(spec(List.of("llama-server", "--host", "0.0.0.0"), false)))
                .hasMessageContaining("allow_remote");
        assertThat(ManagedEngine.loopbackOnly(spec(List.of("llama-server", "--host", "0.0.0.0"), true))).contains("0.0.0.0");
    }

    @Test
    void logsHideWhatUsersTyped() {
        assertThat(ManagedEngine.redact("slot 0: prompt: \"my secret plan\" n_tokens=5"))
                .isEqualTo("slot 0: prompt: [redacted] n_tokens=5");
        assertThat(ManagedEngine.redact("{\"role\":\"user\",\"content\":\"tell me \\\"x\\\"\"}, done"))
                .isEqualTo("{\"role\":\"user\",\"content\":[redacted]}, done");
        assertThat(ManagedEngine.redact("listening on 127.0.0.1:8080")).isEqualTo("listening on 127.0.0.1:8080");
    }

    @Test
    void aCommandThatCannotStart_isAClearError() {
        ManagedEngine e = new ManagedEngine(spec(List.of("/nonexistent/engine"), false));
        assertThatThrownBy(e::start).hasMessageContaining("cannot start engine e");
        e.close();
    }
}

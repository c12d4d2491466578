package io.corral.server;

import io.corral.api.UnavailableException;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A port another server holds is refused with a message that says which port and what to do, not the transport's exception. */
class ListenTest {

    @Test
    void aPortInUse_isNamed() {
        try (CorralServer first = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(ScriptedProvider.chat("p", "m"))).start()) {
            int port = Integer.parseInt(first.url().replaceAll(".*:(\\d+)$", "$1"));
            assertThatThrownBy(() -> CorralServer.builder(ServerConfig.defaults().withPort(port))
                    .providers(List.of(ScriptedProvider.chat("q", "m"))).start())
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("port " + port + " on 127.0.0.1 is in use")
                    .hasMessageContaining("--port");
        }
    }
}

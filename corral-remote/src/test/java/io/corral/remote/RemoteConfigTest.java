package io.corral.remote;

import io.corral.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A host's settings are checked where they are read: nothing malformed reaches a request head. */
class RemoteConfigTest {

    @Test
    void anApiKeyWithALineBreak_isRefused_beforeItCanAddHeaders() {
        assertThatThrownBy(() -> RemoteConfig.fromMap("cloud", Preset.OPENAI,
                Map.of("base_url", "http://127.0.0.1:9/v1", "api_key", "sk-1\r\nX-Injected: yes")))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("api_key");
    }

    @Test
    void aBaseUrlThatIsNotHttp_isRefused_andADefaultIdNamesTheHost() {
        assertThatThrownBy(() -> RemoteConfig.of(Preset.VLLM, "ftp://example.org/v1"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("base_url");
        assertThat(RemoteConfig.of(Preset.VLLM, "http://127.0.0.1:8000/v1/").id()).isEqualTo("vllm@127.0.0.1:8000");
    }
}

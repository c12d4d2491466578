package io.corral.remote;

import io.corral.api.InvalidRequestException;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A host's settings are checked where they are read: nothing malformed reaches a request head. */
class RemoteConfigTest {

    @Test
    void anApiKeyWithALineBreak_isRefused_beforeItCanAddHeaders() {
        assertThatThrownBy(() -> new RemoteProviderFactory.Config("http://127.0.0.1:9/v1", null, "sk-1\r\nX-Injected: yes", null,
                0, null, null, null, false, null, null, null, null, false, null).remote("cloud", Preset.OPENAI))
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

    @Test
    void llamaStacksUrlSpelling_isTheHostsRoot() {
        var c = new RemoteProviderFactory.Config(null, "http://127.0.0.1:11434/", null, "tok", 0, null, null, 5.0, false,
                null, null, null, null, false, null).remote("ollama", Preset.OLLAMA);
        assertThat(c.baseUrl()).isEqualTo("http://127.0.0.1:11434/v1");
        assertThat(c.apiKey()).isEqualTo("tok");
        assertThat(c.idleTimeout()).hasSeconds(5);
        assertThat(c.connectTimeout()).hasSeconds(2);
    }
}

package io.corral.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ollama's keep_alive spellings: Go durations, seconds as numbers or text, negative for ever. */
class KeepAliveTest {

    static Duration of(String json) throws Exception {
        return KeepAlive.of(new ObjectMapper().readTree(json));
    }

    @Test
    void readsOllamasSpellings() throws Exception {
        assertThat(of("{}")).isNull();
        assertThat(of("{\"keep_alive\":null}")).isNull();
        assertThat(of("{\"keep_alive\":\"5m\"}")).isEqualTo(Duration.ofMinutes(5));
        assertThat(of("{\"keep_alive\":\"1h30m\"}")).isEqualTo(Duration.ofMinutes(90));
        assertThat(of("{\"keep_alive\":\"1.5s\"}")).isEqualTo(Duration.ofMillis(1500));
        assertThat(of("{\"keep_alive\":\"300ms\"}")).isEqualTo(Duration.ofMillis(300));
        assertThat(of("{\"keep_alive\":\"-5m\"}")).isNegative();
        assertThat(of("{\"keep_alive\":-1}")).isNegative();
        assertThat(of("{\"keep_alive\":\"-1\"}")).isNegative();
        assertThat(of("{\"keep_alive\":0}")).isZero();
        assertThat(of("{\"keep_alive\":\"30\"}")).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void anythingElse_namesTheField() {
        for (String bad : new String[] {"\"five minutes\"", "\"5 m\"", "\"m\"", "\"-\"", "\"\"", "\"5m3\""}) {
            assertThatThrownBy(() -> of("{\"keep_alive\":" + bad + "}")).as(bad)
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.param).isEqualTo("keep_alive"));
        }
    }
}

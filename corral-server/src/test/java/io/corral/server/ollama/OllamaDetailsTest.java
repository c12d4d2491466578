package io.corral.server.ollama;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Parameter sizes written as Ollama writes them in a model's details (clients show and sort by them). */
class OllamaDetailsTest {

    @Test
    void parameterSizes_asOllamaWritesThem() {
        assertThat(OllamaApi.humanNumber(8_030_261_248L)).isEqualTo("8.0B"); // Llama 3 8B, as Ollama's API docs show it
        assertThat(OllamaApi.humanNumber(3_000_000_000L)).isEqualTo("3B"); // whole numbers without decimals
        assertThat(OllamaApi.humanNumber(1_235_814_400L)).isEqualTo("1.2B");
        assertThat(OllamaApi.humanNumber(22_713_216L)).isEqualTo("22.71M");
        assertThat(OllamaApi.humanNumber(7_000_000L)).isEqualTo("7M");
        assertThat(OllamaApi.humanNumber(292_800L)).isEqualTo("293K");
        assertThat(OllamaApi.humanNumber(999L)).isEqualTo("999");
    }
}

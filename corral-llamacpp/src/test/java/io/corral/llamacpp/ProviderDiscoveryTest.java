package io.corral.llamacpp;

import io.corral.api.ChatRequest;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.InferenceProviderFactory;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The engine is found through ServiceLoader by its provider type, as a distribution config names it. */
class ProviderDiscoveryTest {

    @Test
    void inlineLlamacpp_isFoundAndServes() {
        InferenceProviderFactory factory = InferenceProviderFactory.find("inline::llamacpp").orElseThrow();
        try (InferenceProvider p = factory.create("local", Map.of("model", TestModels.stories().toString(),
                "context_size", "256", "threads", "1"))) {
            assertThat(p.id()).isEqualTo("local");
            assertThat(p.vendor()).isEqualTo("llama.cpp");
            assertThat(p.local()).isTrue();
            assertThat(p.capabilities()).contains(Capability.CHAT, Capability.JSON_SCHEMA).doesNotContain(Capability.VISION);
            assertThat(p.models()).singleElement().satisfies(m -> {
                assertThat(m.id()).isEqualTo("stories260K");
                assertThat(m.provider()).isEqualTo("local");
                assertThat(m.contextLength()).isEqualTo(512);
                assertThat(m.metadata()).containsEntry("quantization", "F32").containsEntry("architecture", "llama");
            });
            var r = p.chat(ChatRequest.builder().user(TestModels.PROMPT).sampling(TestModels.greedy(12)).build());
            assertThat(r.text()).isNotEmpty(); // an empty answer would be a prefix of anything
            assertThat(TestModels.REFERENCE).startsWith(r.text());
            assertThat(r.usage().completionTokens()).isEqualTo(12);
            assertThat(r.metrics().provider()).isEqualTo("local");
        }
        assertThat(InferenceProviderFactory.find("remote::nothing")).isEmpty();
    }

    @Test
    void badConfigValue_namesTheKey() {
        InferenceProviderFactory factory = InferenceProviderFactory.find("inline::llamacpp").orElseThrow();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> factory.create("x", Map.of("threads", "many")))
                .isInstanceOf(io.corral.api.InvalidRequestException.class).hasMessageContaining("threads");
    }
}

package io.corral.llamacpp;

import io.corral.api.ChatRequest;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/** The engine is found through ServiceLoader by its provider type, as a distribution config names it. */
class ProviderDiscoveryTest {

    @Test
    void inlineLlamacpp_isFoundAndServes() {
        var factory = (LlamaCppProviderFactory) ProviderFactory.find(Api.INFERENCE, "inline::llamacpp").orElseThrow();
        try (InferenceProvider p = factory.create("local", "inline::llamacpp", new LlamaCppProviderFactory.Config(
                TestModels.stories().toString(), null, 256, 1, null, null, null, null, null, null, null), ProviderFactory.Context.system())) {
            assertThat(p.id()).isEqualTo("local");
            assertThat(p.vendor()).isEqualTo("llama.cpp");
            assertThat(p.local()).isTrue();
            assertThat(p.capabilities()).contains(Capability.CHAT, Capability.JSON_SCHEMA).doesNotContain(Capability.VISION);
            assertThat(p.models()).singleElement().satisfies(m -> {
                assertThat(m.id()).isEqualTo("stories260K");
                assertThat(m.provider()).isEqualTo("local");
                assertThat(m.contextLength()).isEqualTo(512);
                assertThat(m.metadata()).containsEntry("quantization", "F32").containsEntry("architecture", "llama");
                // no GPU on the machines the tests run on: the model is on the CPU, all 5 blocks and the output layer
                assertThat(m.metadata()).containsEntry("device", "CPU").containsEntry("backend", "cpu")
                        .containsEntry("gpu_layers", 0).containsEntry("offloadable_layers", 6)
                        .containsEntry("device_memory", 0L);
            });
            var r = p.chat(ChatRequest.builder().user(TestModels.PROMPT).sampling(TestModels.greedy(12)).build());
            assertThat(r.text()).isNotEmpty(); // an empty answer would be a prefix of anything
            assertThat(TestModels.REFERENCE).startsWith(r.text());
            assertThat(r.usage().completionTokens()).isEqualTo(12);
            assertThat(r.metrics().provider()).isEqualTo("local");
        }
        assertThat(ProviderFactory.find(Api.INFERENCE, "remote::nothing")).isEmpty();
        assertThat(ProviderFactory.find(Api.SAFETY, "inline::llamacpp")).isEmpty(); // found per API
        assertThat(ProviderFactory.known(Api.INFERENCE)).contains("inline::llamacpp");
    }

    @Test
    void badConfigValue_namesTheKey() {
        var factory = (LlamaCppProviderFactory) ProviderFactory.find(Api.INFERENCE, "inline::llamacpp").orElseThrow();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> factory.create("x", "inline::llamacpp",
                        new LlamaCppProviderFactory.Config(null, null, 0, 0, null, 0, null, null, null, null, null),
                        ProviderFactory.Context.system()))
                .isInstanceOfSatisfying(io.corral.api.InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("parallel"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LlamaCppProviderFactory.Config(null, null, 0, 0, null,
                        null, null, null, "columns", null, null))
                .isInstanceOfSatisfying(io.corral.api.InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("split_mode"));
        // a batch smaller than the generations it must hold (parallel and a shield's call) aborted llama.cpp
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LlamaCppProviderFactory.Config(null, null, 0, 0, 4,
                        4, null, null, null, null, null))
                .isInstanceOfSatisfying(io.corral.api.InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("batch_size"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LlamaCppProviderFactory.Config(null, null, 0, 0, null,
                        null, -2, null, null, null, null))
                .isInstanceOfSatisfying(io.corral.api.InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("gpu_layers"));
    }
}

package io.corral;

import io.corral.api.ChatResult;
import io.corral.api.InvalidModelException;
import io.corral.api.SamplingParams;
import io.corral.api.Session;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The quick API and the builder, as the README shows them, on the real bundled model. */
class CorralTest {

    static Path stories() {
        return Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf");
    }

    @Test
    void generate_oneLine() {
        String text = Corral.generate(stories(), "Once upon a time");
        assertThat(text).isNotBlank();
    }

    @Test
    void session_oneLine_andItFreesTheModelOnClose() {
        try (Session chat = Corral.session(stories())) {
            ChatResult r = chat.send("Hello!");
            assertThat(r.usage().completionTokens()).isPositive();
            assertThat(chat.history()).hasSize(2);
            assertThat(chat.history().get(1).text()).isEqualTo(r.text());
            assertThat(chat.contextUsage().used()).isGreaterThan(r.usage().promptTokens());
        }
    }

    @Test
    void builder_withTheBundledDefaultModel_andGreedySampling() {
        try (Corral corral = Corral.builder().threads(1).contextSize(256)
                .sampling(SamplingParams.builder().temperature(0).maxTokens(64).build()).build()) {
            assertThat(corral.complete("Once upon a time").text()).isEqualTo(
                    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, "
                            + "red ball. She wanted to play with it, but it was too high.\nLily's mom said");
            assertThat(corral.contextSize()).isEqualTo(256);
            assertThat(corral.models()).extracting(m -> m.id() + " " + m.type().wire())
                    .containsExactlyInAnyOrder("stories260K llm", "all-MiniLM-L6-v2 embedding"); // the default embeddings beside it
        }
    }

    @Test
    void badModel_failsInBuild() {
        assertThatThrownBy(() -> Corral.builder().model(Path.of("missing.gguf")).build())
                .isInstanceOf(InvalidModelException.class);
    }
}

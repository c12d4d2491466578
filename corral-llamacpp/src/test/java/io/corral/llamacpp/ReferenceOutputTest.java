package io.corral.llamacpp;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.FinishReason;
import io.corral.api.TokenStream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.corral.llamacpp.TestModels.PROMPT;
import static io.corral.llamacpp.TestModels.REFERENCE;
import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;

/** The pinned llama.cpp reproduces the reference continuation of three independent engines. */
class ReferenceOutputTest {

    static final LlamaCppEngine engine = TestModels.engine();

    @Test
    void greedyCompletion_equalsReference() {
        ChatResult r = engine.complete(CompletionRequest.of(PROMPT, greedy(64)));
        assertThat(r.text()).isEqualTo(REFERENCE);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.usage().completionTokens()).isEqualTo(64);
        assertThat(r.usage().promptTokens()).isEqualTo(5); // BOS + 4 tokens
        assertThat(r.metrics().model()).isEqualTo("stories260K");
        assertThat(r.metrics().provider()).isEqualTo("llamacpp");
    }

    @Test
    void loneUserMessageToBaseModel_isCompletedAsPlainText() {
        ChatResult r = engine.chat(ChatRequest.builder().user(PROMPT).sampling(greedy(64)).build());
        assertThat(r.text()).isEqualTo(REFERENCE);
    }

    @Test
    void streaming_yieldsExactlyTheNonStreamingText_tokenByToken() {
        List<String> pieces = new ArrayList<>();
        ChatResult r;
        try (TokenStream s = engine.stream(CompletionRequest.of(PROMPT, greedy(64)))) {
            s.forEachText(pieces::add);
            r = s.result();
        }
        assertThat(String.join("", pieces)).isEqualTo(REFERENCE);
        assertThat(pieces).hasSizeGreaterThan(40); // one piece per token, not one block
        assertThat(r.text()).isEqualTo(REFERENCE);
        assertThat(r.metrics().timeToFirstToken()).isLessThanOrEqualTo(r.metrics().latency());
    }
}

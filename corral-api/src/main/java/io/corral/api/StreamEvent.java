package io.corral.api;

import java.util.List;

/**
 * What a {@link TokenStream} hands out, in order: text and tool-call pieces as the engine produces them,
 * then one {@link Finish}. A failure is not an event: it is the typed {@link CorralException} that
 * {@code hasNext()}/{@code next()} throw (retriable when nothing had been handed out yet).
 */
public sealed interface StreamEvent {

    /** Text the model wrote (never part of a stop sequence or of a UTF-8 character), with its tokens' log-probabilities when asked for. */
    record Text(String text, List<TokenLogprob> logprobs) implements StreamEvent {
        public Text {
            logprobs = logprobs == null ? List.of() : List.copyOf(logprobs);
        }

        public Text(String text) {
            this(text, List.of());
        }
    }

    /**
     * A piece of tool call number {@code index}: the first piece of a call carries its {@code id} and
     * {@code name} (later ones null), every piece a fragment of its JSON {@code arguments} (possibly empty);
     * the fragments of one call joined are its arguments.
     */
    record ToolCallDelta(int index, String id, String name, String arguments) implements StreamEvent {
    }

    /** The end: why generation stopped, and the token counts. Always the last event. */
    record Finish(FinishReason reason, Usage usage) implements StreamEvent {
    }
}

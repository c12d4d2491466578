package io.corral.api;

/** Why generation ended. */
public enum FinishReason {
    /** The model ended its turn, or a stop sequence matched. */
    STOP,
    /** max_tokens was reached, or the context window filled up. */
    LENGTH,
    /** The model asked for tool calls. */
    TOOL_CALLS,
    /** A shield blocked the output. */
    CONTENT_FILTER,
    /** The caller cancelled. */
    CANCELLED;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

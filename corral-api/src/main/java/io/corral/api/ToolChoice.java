package io.corral.api;

/** Whether and which tool the model must call. */
public sealed interface ToolChoice {

    /** The model decides (its chat template's tool-call format). */
    record Auto() implements ToolChoice {
    }

    /** No tool calls. */
    record None() implements ToolChoice {
    }

    /** The model must call one of the tools; local engines enforce it with a grammar. */
    record Required() implements ToolChoice {
    }

    /** The model must call this tool. */
    record Named(String name) implements ToolChoice {
    }

    ToolChoice AUTO = new Auto();
    ToolChoice NONE = new None();
    ToolChoice REQUIRED = new Required();

    /** OpenAI's words for a choice ({@code auto}, {@code none}, {@code required}); null for any other. */
    static ToolChoice ofWord(String word) {
        return switch (word) {
            case "auto" -> AUTO;
            case "none" -> NONE;
            case "required" -> REQUIRED;
            default -> null;
        };
    }
}

package io.corral.safety;

import io.corral.api.InvalidRequestException;

import java.util.List;
import java.util.Map;

/**
 * Which shields guard which model, and how streams are checked: the distribution config's {@code guardrails:}.
 *
 * @param models   per model id ({@code "*"} for every model without its own entry): the shields on input and output
 * @param window   characters of a streamed answer checked at a time (at least 1)
 * @param holdBack true (the default): each window is held back until it is checked, so a violation never reaches
 *                 the client; false: text is streamed first and the stream stopped on a violation
 */
public record GuardrailConfig(Map<String, Shields> models, int window, boolean holdBack) {

    /** Default window: about 50 tokens of English. */
    public static final int WINDOW = 200;

    public static final GuardrailConfig NONE = new GuardrailConfig(Map.of(), WINDOW, true);

    /** The shields on a model's input and output. */
    public record Shields(List<String> input, List<String> output) {
        public static final Shields NONE = new Shields(List.of(), List.of());

        public Shields {
            input = input == null ? List.of() : List.copyOf(input);
            output = output == null ? List.of() : List.copyOf(output);
        }
    }

    public GuardrailConfig {
        models = Map.copyOf(models);
        if (window < 1) {
            throw new InvalidRequestException("guardrails.window", "window must be at least 1 character");
        }
    }

    /** The shields configured for {@code model}: its own entry, or {@code "*"}'s. */
    public Shields of(String model) {
        Shields s = models.get(model);
        return s != null ? s : models.getOrDefault("*", Shields.NONE);
    }
}

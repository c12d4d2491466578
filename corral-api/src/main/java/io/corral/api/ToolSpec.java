package io.corral.api;

import java.util.Objects;

/** A function the model may call; {@code parameters} is a JSON Schema (as JSON text) for its arguments. */
public record ToolSpec(String name, String description, String parameters) {

    public ToolSpec {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-zA-Z0-9_-]{1,64}")) {
            throw new InvalidRequestException("tools", "tool name must be 1-64 letters, digits, _ or -, was '" + name + "'");
        }
        parameters = parameters == null || parameters.isBlank() ? "{\"type\":\"object\"}" : parameters;
    }
}

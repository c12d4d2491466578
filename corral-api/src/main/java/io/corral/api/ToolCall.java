package io.corral.api;

/** A function call the assistant asked for; {@code arguments} is a JSON object as text. */
public record ToolCall(String id, String name, String arguments) {
}

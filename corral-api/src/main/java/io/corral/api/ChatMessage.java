package io.corral.api;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One message of a conversation.
 *
 * @param role       who wrote it
 * @param content    text and image parts, in order
 * @param toolCalls  calls an assistant message asks for (empty otherwise)
 * @param toolCallId for a {@link Role#TOOL} message, the call it answers
 */
public record ChatMessage(Role role, List<ContentPart> content, List<ToolCall> toolCalls, String toolCallId) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        content = List.copyOf(content);
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public static ChatMessage system(String text) {
        return of(Role.SYSTEM, text);
    }

    public static ChatMessage user(String text) {
        return of(Role.USER, text);
    }

    public static ChatMessage assistant(String text) {
        return of(Role.ASSISTANT, text);
    }

    public static ChatMessage tool(String toolCallId, String text) {
        return new ChatMessage(Role.TOOL, List.of(ContentPart.text(text)), List.of(), toolCallId);
    }

    public static ChatMessage of(Role role, String text) {
        return new ChatMessage(role, List.of(ContentPart.text(text)), List.of(), null);
    }

    /** The text parts joined; images left out. */
    public String text() {
        return content.stream()
                .filter(ContentPart.Text.class::isInstance)
                .map(p -> ((ContentPart.Text) p).text())
                .collect(Collectors.joining());
    }

    public boolean hasImages() {
        return content.stream().anyMatch(ContentPart.Image.class::isInstance);
    }
}

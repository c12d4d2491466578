package io.corral.api;

import java.util.List;

/**
 * A safety shield blocked the input (OpenAI's error code {@code content_policy_violation}); the message is the
 * shield's message to the user, {@link #shield()} and {@link #categories()} say which shield and what it found.
 */
public class ContentBlockedException extends NonRetriableException {

    private final String shield;
    private final List<String> categories;

    public ContentBlockedException(String message) {
        this(message, null, List.of());
    }

    public ContentBlockedException(String message, String shield, List<String> categories) {
        super("content_policy_violation", message, null);
        this.shield = shield;
        this.categories = List.copyOf(categories);
    }

    /** The shield that blocked it, or null. */
    public String shield() {
        return shield;
    }

    public List<String> categories() {
        return categories;
    }
}

package io.corral.api;

/** Who wrote a chat message. */
public enum Role {
    SYSTEM, USER, ASSISTANT, TOOL;

    /** The lower-case wire name ({@code "user"}, ...). */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

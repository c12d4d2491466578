package io.corral.api;

import java.nio.file.Path;
import java.util.List;

/**
 * A stateful conversation whose engine state (the KV cache) lives between turns, so each turn only
 * evaluates its new tokens. Not thread-safe: one turn at a time.
 */
public interface Session extends AutoCloseable {

    /** Adds a user message and returns the assistant's answer. */
    ChatResult send(String userText);

    /** Adds a message and streams the assistant's answer; the turn is recorded when the stream ends. */
    TokenStream stream(ChatMessage message);

    /** The messages so far, including the system prompt. */
    List<ChatMessage> history();

    /** Tokens held in the context window now, and its capacity. */
    ContextUsage contextUsage();

    /** Keeps the system prompt and the newest {@code tokens} tokens of the conversation; drops the rest. */
    void trim(int tokens);

    /** Forgets the conversation except the system prompt. */
    void clear();

    /** Writes the conversation and its engine state to {@code file}, to be restored later. */
    void save(Path file);

    @Override
    void close();
}

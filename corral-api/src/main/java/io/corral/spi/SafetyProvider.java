package io.corral.spi;

import io.corral.api.ChatMessage;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Shields ({@link Api#SAFETY}): checks of a conversation, as Llama Stack's {@code run_shield} runs them (Llama
 * Guard and the like). The server's {@link Guardrail} runs a model's shields on input and output.
 */
public interface SafetyProvider extends AutoCloseable {

    /** What a shield found: how bad, what to tell the user, and the shield's own details (categories). */
    record Violation(Level level, String userMessage, Map<String, Object> metadata) {
        public enum Level { INFO, WARN, ERROR }
    }

    /** The shields it runs, by id. */
    List<String> shields();

    /** Checks {@code messages} with shield {@code shieldId}; empty when nothing is wrong. */
    Optional<Violation> run(String shieldId, List<ChatMessage> messages, Map<String, Object> params);

    @Override
    void close();
}

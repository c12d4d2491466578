package io.corral.spi;

import io.corral.api.ChatMessage;
import io.corral.spi.SafetyProvider.Moderation;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.spi.SafetyProvider.Violation;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Safety as Llama Stack and OpenAI serve it: the shields registered on the {@link SafetyProvider}s (from the
 * distribution config, or at run time), run on a conversation ({@code run-shield}) or on inputs (OpenAI's
 * moderations), and the {@link Guardrail} the server's request path runs on input and output. Implemented by the
 * safety module; the server's routes and the library call it. A shield that is not there is an
 * {@link io.corral.api.NotFoundException}.
 */
public interface Safety extends AutoCloseable {

    /** What one check did, for metrics: the shield, the stage ({@code input}, {@code output}, {@code run}), the outcome. */
    record Check(String shieldId, String stage, String outcome, long nanos) {
        public static final String PASSED = "passed";
        public static final String BLOCKED = "blocked";
        public static final String FAILED = "error";
    }

    List<Shield> shields();

    Shield shield(String id);

    /**
     * Registers a shield; {@code providerId} null picks the only provider that could run it (the one whose type
     * matches, or the only one). Registering an id again with the same settings returns it; with others, a 400.
     */
    Shield register(Shield shield);

    void unregister(String id);

    /** Runs shield {@code shieldId} on {@code messages}; empty when nothing is wrong. */
    Optional<Violation> run(String shieldId, List<ChatMessage> messages, Map<String, Object> params);

    /**
     * OpenAI's moderations: {@code model} names a shield, or what a shield runs (its {@code provider_shield_id},
     * e.g. a guard model); null for the default shield. One result per input.
     */
    Moderations moderate(String model, List<String> inputs);

    /** The moderations of one request and the model (shield) that made them. */
    record Moderations(String model, List<Moderation> results) {
    }

    /** The guardrails: the config's per model, and each request's own. */
    Guardrail guardrail();

    /** Hears every check (the server counts them in its metrics). */
    void listen(java.util.function.Consumer<Check> listener);

    @Override
    void close();
}

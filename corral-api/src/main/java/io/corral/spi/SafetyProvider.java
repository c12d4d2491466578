package io.corral.spi;

import io.corral.api.ChatMessage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Shields ({@link Api#SAFETY}) as Llama Stack runs them: a provider (Llama Guard, rules, a moderation endpoint)
 * runs the shields registered on it, each a {@link Shield} with the provider's own name for what it runs (a guard
 * model, a rule set) and parameters. {@link Safety} holds the registry and runs the guardrails.
 */
public interface SafetyProvider extends AutoCloseable {

    /**
     * Bound while a shield calls a model: an engine serves such a call from capacity of its own, so a check never
     * waits behind the generation it guards (a guard model on the same in-process engine cannot deadlock it).
     */
    ScopedValue<Boolean> GUARD_CALL = ScopedValue.newInstance();

    /**
     * A registered shield, as Llama Stack's {@code Shield} resource: its id, the provider that runs it, the
     * provider's name for it ({@code provider_shield_id}: a guard model, null where the provider needs none) and
     * its parameters.
     */
    record Shield(String id, String providerId, String providerShieldId, Map<String, Object> params) {
        public Shield {
            Objects.requireNonNull(id, "id");
            params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        }
    }

    /**
     * What a shield found: how bad, what to tell the user, the categories found (OpenAI's moderation names where
     * one corresponds, e.g. {@code violence}; the shield's own otherwise, e.g. {@code prompt_injection}), and the
     * shield's details ({@code metadata}, e.g. Llama Guard's {@code violation_type: "S1,S10"}).
     */
    record Violation(Level level, String userMessage, List<String> categories, Map<String, Object> metadata) {
        public enum Level {
            INFO, WARN, ERROR;

            public String wireName() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        public Violation {
            Objects.requireNonNull(level, "level");
            categories = List.copyOf(categories);
            metadata = metadata == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** What a user is told when a check could not be made and its policy is to block. */
        public static final String UNCHECKED = "I can't answer that: the content could not be checked for safety.";

        /** The violation a check that could not be made stands for (fail closed): category {@code unchecked}. */
        public static Violation unchecked(String why, Map<String, Object> details) {
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("error", why);
            if (details != null) {
                metadata.putAll(details);
            }
            return new Violation(Level.ERROR, UNCHECKED, List.of("unchecked"), metadata);
        }

        /** Whether it stops a request: an {@code error}; {@code info} and {@code warn} are reported only. */
        public boolean blocks() {
            return level == Level.ERROR;
        }
    }

    /** OpenAI's moderation categories, in its order: every moderation result names each, flagged or not. */
    List<String> OPENAI_CATEGORIES = List.of("harassment", "harassment/threatening", "hate", "hate/threatening",
            "illicit", "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
            "sexual/minors", "violence", "violence/graphic");

    /**
     * One input's moderation as OpenAI gives it: flagged or not, every category with whether it was found and a
     * score in [0, 1] (1 or 0 where a shield gives no scores), and the violation behind it (null when none).
     */
    record Moderation(boolean flagged, Map<String, Boolean> categories, Map<String, Double> scores, Violation violation) {
        public Moderation {
            categories = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(categories));
            scores = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(scores));
        }

        /** The moderation a violation (or none) stands for: OpenAI's categories, plus the violation's own. */
        public static Moderation of(Violation v) {
            Map<String, Boolean> found = new LinkedHashMap<>();
            Map<String, Double> scores = new LinkedHashMap<>();
            for (String c : OPENAI_CATEGORIES) {
                found.put(c, false);
                scores.put(c, 0.0);
            }
            if (v != null) {
                for (String c : v.categories()) {
                    found.put(c, true);
                    scores.put(c, 1.0);
                }
            }
            return new Moderation(v != null && v.blocks(), found, scores, v);
        }
    }

    /** The provider's id in the distribution config. */
    String id();

    /** Its {@code provider_type}, e.g. {@code inline::rules}. */
    String type();

    /**
     * Checks that {@code shield} can run here (its parameters, its model named) before it is registered; throws
     * {@link io.corral.api.InvalidRequestException} naming what is wrong.
     */
    default void register(Shield shield) {
    }

    /**
     * Checks {@code messages} (the last one is what is judged; the others are its context) with {@code shield};
     * empty when nothing is wrong. {@code params} are the call's own, over the shield's. A check that cannot be
     * made (the guard model unreachable) throws; what the caller does then is its policy.
     */
    Optional<Violation> run(Shield shield, List<ChatMessage> messages, Map<String, Object> params);

    /** OpenAI's moderation of each input alone; by default each input is run as a user message. */
    default List<Moderation> moderate(Shield shield, List<String> inputs) {
        List<Moderation> out = new ArrayList<>();
        for (String input : inputs) {
            out.add(Moderation.of(run(shield, List.of(ChatMessage.user(input)), Map.of()).orElse(null)));
        }
        return out;
    }

    @Override
    void close();
}

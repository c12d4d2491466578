package io.corral.spi;

import io.corral.api.InvalidRequestException;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a model is for, as Llama Stack's {@code model_type} names it; what else it can do is its {@link Capability}s. */
public enum ModelType {
    /** Generates text (chat, completions); may also see images or call tools. */
    LLM(EnumSet.of(Capability.CHAT, Capability.COMPLETION, Capability.JSON_SCHEMA, Capability.TOOLS)),
    /** Turns text into vectors. */
    EMBEDDING(EnumSet.of(Capability.EMBEDDINGS));

    private final Set<Capability> capabilities;

    ModelType(Set<Capability> capabilities) {
        this.capabilities = capabilities;
    }

    /** What a model of this type can do unless its host says more (vision) or less. */
    public Set<Capability> capabilities() {
        return EnumSet.copyOf(capabilities);
    }

    /** The wire name: {@code llm} or {@code embedding}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code llm} or {@code embedding} (also {@code embeddings}, as LM Studio writes it). */
    public static ModelType parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "llm" -> LLM;
            case "embedding", "embeddings" -> EMBEDDING;
            default -> throw new InvalidRequestException("model_type", "unknown model type '" + name + "' (llm or embedding)");
        };
    }
}

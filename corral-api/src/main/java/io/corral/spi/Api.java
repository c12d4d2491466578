package io.corral.spi;

import java.util.Locale;

/** The APIs a distribution config names providers for, as Llama Stack's {@code run.yaml} spells its sections. */
public enum Api {
    /** Chat, completions and embeddings: {@link InferenceProvider}. */
    INFERENCE,
    /** Vector stores: {@link VectorIoProvider}. */
    VECTOR_IO,
    /** Uploaded files: {@link FilesProvider}. */
    FILES,
    /** Shields: {@link SafetyProvider}. */
    SAFETY,
    /** Tools the agents call (MCP, search, ...): {@link ToolRuntimeProvider}. */
    TOOL_RUNTIME,
    /** Where traces go. */
    TELEMETRY,
    /** Agents. */
    AGENTS,
    /** Durable state for agents, responses and conversations: {@link KeyValueStore}. */
    STORAGE;

    /** The section under {@code providers:}, e.g. {@code vector_io}. */
    public String section() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The API of a {@code providers:} section, or null for one Corral does not have. */
    public static Api bySection(String section) {
        for (Api a : values()) {
            if (a.section().equals(section)) {
                return a;
            }
        }
        return null;
    }
}

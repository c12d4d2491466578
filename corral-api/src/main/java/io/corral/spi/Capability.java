package io.corral.spi;

/** What a provider or a model can do; routing matches requests against these. */
public enum Capability {
    CHAT, COMPLETION, VISION, EMBEDDINGS, TOOLS, JSON_SCHEMA, SESSIONS
}

package io.corral.spi;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InvalidRequestException;
import io.corral.api.TokenStream;

import java.util.List;
import java.util.Set;

/**
 * A runner: something that serves models (an in-process engine, a remote server). A provider only
 * talks to its engine; routing, shields, telemetry and defaults wrap it from outside.
 */
public interface InferenceProvider extends AutoCloseable {

    /** Unique among the configured providers, e.g. {@code "llamacpp"}. */
    String id();

    /** The distribution config's {@code provider_type}, e.g. {@code "inline::llamacpp"} or {@code "remote::ollama"}. */
    String type();

    /** Who makes the engine, e.g. {@code "llama.cpp"}. */
    String vendor();

    Set<Capability> capabilities();

    /** Higher is preferred when several runners can serve a request. */
    default int priority() {
        return 0;
    }

    /** Whether it runs in this process or on this machine (as opposed to a remote host). */
    default boolean local() {
        return true;
    }

    List<ModelInfo> models();

    /** Generates a chat answer; blocks until done. */
    default ChatResult chat(ChatRequest request) {
        try (TokenStream stream = stream(request)) {
            return stream.result();
        }
    }

    /** Starts a chat answer that is read token by token. */
    TokenStream stream(ChatRequest request);

    /** Continues a raw prompt; blocks until done. */
    default ChatResult complete(CompletionRequest request) {
        try (TokenStream stream = stream(request)) {
            return stream.result();
        }
    }

    /** Continues a raw prompt, token by token. */
    TokenStream stream(CompletionRequest request);

    /** Embeds texts; providers without {@link Capability#EMBEDDINGS} refuse. */
    default EmbeddingResult embed(EmbeddingRequest request) {
        throw new InvalidRequestException("model", "provider " + id() + " does not make embeddings");
    }

    @Override
    void close();
}

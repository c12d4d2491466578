package io.corral.api;

import java.util.Iterator;
import java.util.List;

/**
 * A generation in progress, read token by token. Each {@link #next()} returns the text of the next
 * token(s) as the engine produces them (never a partial UTF-8 character, never text that belongs to
 * a stop sequence). {@link #close()} (or {@link #cancel()} from any thread) stops the engine.
 * After the last piece, {@link #result()} gives the whole answer with its usage and metrics.
 */
public interface TokenStream extends Iterator<String>, AutoCloseable {

    /**
     * Blocks until the engine has begun answering, so a router can tell a failed start (worth another
     * runner) from an answer under way. By default that is the first piece; a remote host has begun
     * when its first event arrives, which may carry no text yet.
     */
    default void awaitStart() {
        hasNext();
    }

    /** Stops generation; safe from any thread. The stream then ends with {@link FinishReason#CANCELLED}. */
    void cancel();

    /** The finished result; drains the stream first if it has not ended. */
    ChatResult result();

    /**
     * Log-probabilities of the tokens generated since the last call (when the request asked for them),
     * so a streaming reader can send them with the text they belong to.
     */
    default List<TokenLogprob> takeLogprobs() {
        return List.of();
    }

    /** Stops generation if still running and frees the engine's resources. */
    @Override
    void close();
}

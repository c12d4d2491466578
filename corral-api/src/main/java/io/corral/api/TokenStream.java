package io.corral.api;

import java.util.Iterator;

/**
 * A generation in progress, read event by event ({@link StreamEvent}): text pieces and tool-call pieces as
 * the engine produces them, then one {@link StreamEvent.Finish}. A failure is thrown by
 * {@code hasNext()}/{@code next()} as a typed {@link CorralException}. {@link #close()} (or {@link #cancel()}
 * from any thread) stops the engine. {@link #result()} gives the whole answer with its usage and metrics.
 */
public interface TokenStream extends Iterator<StreamEvent>, AutoCloseable {

    /**
     * Blocks until the engine has begun answering, so a router can tell a failed start (worth another
     * runner) from an answer under way. By default that is the first event; a remote host has begun
     * when its first event arrives, which may carry no text yet.
     */
    default void awaitStart() {
        hasNext();
    }

    /** Reads the stream to its end, giving each text piece to {@code action} (tool-call pieces are in the result). */
    default void forEachText(java.util.function.Consumer<String> action) {
        while (hasNext()) {
            if (next() instanceof StreamEvent.Text t) {
                action.accept(t.text());
            }
        }
    }

    /** Stops generation; safe from any thread. The stream then ends with {@link FinishReason#CANCELLED}. */
    void cancel();

    /** The finished result; drains the stream first if it has not ended. */
    ChatResult result();

    /** Stops generation if still running and frees the engine's resources. */
    @Override
    void close();
}

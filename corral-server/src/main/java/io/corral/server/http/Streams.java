package io.corral.server.http;

import io.corral.api.TokenStream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generations the server is streaming to clients, so that shutdown ends each of them (with an error
 * event, which the handler writes once its stream reports it was cancelled), whichever API began it.
 */
public final class Streams {

    private final Set<TokenStream> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    /** Tracks {@code s} until the result is closed; a stream begun while stopping is cancelled at once. */
    public AutoCloseable track(TokenStream s) {
        running.add(s);
        if (stopping) {
            s.cancel();
        }
        return () -> running.remove(s);
    }

    /** Whether the server is stopping (a cancelled stream then ends with {@link Errors#SHUTTING_DOWN}). */
    public boolean stopping() {
        return stopping;
    }

    /** Cancels every stream running. */
    public void shutdown() {
        stopping = true;
        running.forEach(TokenStream::cancel);
    }
}

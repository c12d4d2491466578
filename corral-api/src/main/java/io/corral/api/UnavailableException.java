package io.corral.api;

/** The engine or host cannot serve now (down, loading, connection refused). */
public class UnavailableException extends RetriableException {

    public UnavailableException(String message) {
        super("engine_unavailable", message, null);
    }

    public UnavailableException(String message, Throwable cause) {
        super("engine_unavailable", message, cause);
    }
}

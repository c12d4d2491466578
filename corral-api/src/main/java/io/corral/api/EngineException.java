package io.corral.api;

/** The engine failed in a way no retry will fix (a native error, a broken model). */
public class EngineException extends NonRetriableException {

    public EngineException(String message) {
        super("engine_error", message, null);
    }

    public EngineException(String message, Throwable cause) {
        super("engine_error", message, cause);
    }
}

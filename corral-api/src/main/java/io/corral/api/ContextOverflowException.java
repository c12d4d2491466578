package io.corral.api;

/** The prompt does not fit in the model's context window. */
public class ContextOverflowException extends NonRetriableException {

    public ContextOverflowException(String message) {
        super("context_length_exceeded", message, null);
    }

    public ContextOverflowException(String message, Throwable cause) {
        super("context_length_exceeded", message, cause);
    }
}

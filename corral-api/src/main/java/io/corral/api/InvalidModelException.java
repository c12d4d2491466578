package io.corral.api;

/** A model file is missing, unreadable or not a valid model. */
public class InvalidModelException extends NonRetriableException {

    public InvalidModelException(String message) {
        super("invalid_model", message, null);
    }

    public InvalidModelException(String message, Throwable cause) {
        super("invalid_model", message, cause);
    }
}

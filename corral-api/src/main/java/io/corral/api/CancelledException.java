package io.corral.api;

/** The caller cancelled the request. */
public class CancelledException extends NonRetriableException {

    public CancelledException(String message) {
        super("cancelled", message, null);
    }

    public CancelledException(String message, Throwable cause) {
        super("cancelled", message, cause);
    }
}

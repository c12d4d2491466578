package io.corral.api;

/** No answer within the time allowed. */
public class InferenceTimeoutException extends RetriableException {

    public InferenceTimeoutException(String message) {
        super("timeout", message, null);
    }

    public InferenceTimeoutException(String message, Throwable cause) {
        super("timeout", message, cause);
    }
}

package io.corral.api;

/** The request is malformed or asks for something impossible; {@link #param()} names the field. */
public class InvalidRequestException extends NonRetriableException {

    private final String param;

    public InvalidRequestException(String param, String message) {
        super("invalid_request", message, null);
        this.param = param;
    }

    /** The offending field (for example {@code "temperature"}), or null. */
    public String param() {
        return param;
    }
}

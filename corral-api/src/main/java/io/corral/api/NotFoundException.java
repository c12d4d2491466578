package io.corral.api;

/** The thing a request names (a file, a vector store) does not exist, or is not the caller's to see. */
public class NotFoundException extends NonRetriableException {
    private final String param;

    public NotFoundException(String param, String message) {
        super("not_found", message, null);
        this.param = param;
    }

    /** The field that named it, or null. */
    public String param() {
        return param;
    }
}

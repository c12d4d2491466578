package io.corral.api;

/** A safety shield blocked the input or the output. */
public class ContentBlockedException extends NonRetriableException {

    public ContentBlockedException(String message) {
        super("content_blocked", message, null);
    }

    public ContentBlockedException(String message, Throwable cause) {
        super("content_blocked", message, cause);
    }
}

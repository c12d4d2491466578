package io.corral.api;

/** Over capacity: too many requests queued or in flight. */
public class RateLimitedException extends RetriableException {

    public RateLimitedException(String message) {
        super("rate_limited", message, null);
    }

    public RateLimitedException(String message, Throwable cause) {
        super("rate_limited", message, cause);
    }
}

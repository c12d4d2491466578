package io.corral.api;

/** A failure that would happen again: the request, the model or the caller must change. */
public abstract non-sealed class NonRetriableException extends CorralException {

    protected NonRetriableException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public final boolean isRetriable() {
        return false;
    }
}

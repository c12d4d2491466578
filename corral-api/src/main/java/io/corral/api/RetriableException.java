package io.corral.api;

/** A failure that another try, or another runner, may not have. */
public abstract non-sealed class RetriableException extends CorralException {

    protected RetriableException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public final boolean isRetriable() {
        return true;
    }
}

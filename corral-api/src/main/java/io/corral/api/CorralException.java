package io.corral.api;

/**
 * Root of every error Corral reports. Unchecked; split into {@link RetriableException} (another try,
 * or another runner, may succeed) and {@link NonRetriableException} (it will fail the same way again).
 * {@link #code()} is a stable machine-readable name, used as the OpenAI-style error code.
 */
public abstract sealed class CorralException extends RuntimeException
        permits RetriableException, NonRetriableException {

    private final String code;

    protected CorralException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }

    public abstract boolean isRetriable();
}

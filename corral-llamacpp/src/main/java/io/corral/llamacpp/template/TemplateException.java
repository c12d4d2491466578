package io.corral.llamacpp.template;

/** A chat template that cannot be read, or that refused to render (its own {@code raise_exception}). */
public final class TemplateException extends RuntimeException {

    public TemplateException(String message) {
        super(message);
    }
}

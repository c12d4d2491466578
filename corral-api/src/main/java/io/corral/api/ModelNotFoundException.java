package io.corral.api;

/** No configured runner serves the requested model. */
public class ModelNotFoundException extends NonRetriableException {

    public ModelNotFoundException(String message) {
        super("model_not_found", message, null);
    }

    public ModelNotFoundException(String message, Throwable cause) {
        super("model_not_found", message, cause);
    }
}

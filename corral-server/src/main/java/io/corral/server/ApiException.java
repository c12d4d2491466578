package io.corral.server;

/** An HTTP-level failure the client caused or must see (bad JSON, unknown route, missing key, ...). */
final class ApiException extends RuntimeException {

    final int status;
    final String type;
    final String code;
    final String param;

    ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_request", param, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "invalid_request_error", "not_found", null, message);
    }

    static ApiException unauthorized(String message) {
        return new ApiException(401, "authentication_error", "invalid_api_key", null, message);
    }

    static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "request body is larger than " + limit + " bytes");
    }

    static ApiException busy(String model) {
        return new ApiException(429, "rate_limit_error", "rate_limited", null,
                "model " + model + " is at capacity; retry later");
    }
}

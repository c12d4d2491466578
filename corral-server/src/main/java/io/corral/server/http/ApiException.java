package io.corral.server.http;

import java.util.Set;

/** An HTTP-level failure the client caused or must see (bad JSON, unknown route, missing key, ...). */
public final class ApiException extends RuntimeException {

    final int status;
    final String type;
    final String code;
    final String param;
    final String allow; // for 405: the methods the path takes
    final java.util.Map<String, String> headers; // for 429: Retry-After and the x-ratelimit-* headers

    ApiException(int status, String type, String code, String param, String message) {
        this(status, type, code, param, message, null);
    }

    private ApiException(int status, String type, String code, String param, String message, String allow) {
        this(status, type, code, param, message, allow, java.util.Map.of());
    }

    private ApiException(int status, String type, String code, String param, String message, String allow,
                         java.util.Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.allow = allow;
        this.headers = headers;
    }

    /** 503: the server is stopping and takes no new request. */
    public static ApiException shuttingDown() {
        return new ApiException(503, "server_error", "server_shutting_down", null,
                "the server is shutting down; retry against another one or after it restarts");
    }

    /** OpenAI's 429: {@code type} is what ran out ({@code requests} or {@code tokens}); the headers go on the answer. */
    public static ApiException rateLimited(String message, String type, java.util.Map<String, String> headers) {
        return new ApiException(429, type, "rate_limit_exceeded", null, message, null, java.util.Map.copyOf(headers));
    }

    public int status() {
        return status;
    }

    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_request", param, message);
    }

    /** 409: the resource is not in a state that allows the call (a finished batch cancelled, say). */
    public static ApiException conflict(String param, String message) {
        return new ApiException(409, "invalid_request_error", "conflict", param, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "invalid_request_error", "not_found", null, message);
    }

    public static ApiException methodNotAllowed(String method, String path, Set<String> allowed) {
        String allow = String.join(", ", allowed);
        return new ApiException(405, "invalid_request_error", "method_not_allowed", null,
                method + " is not allowed on " + path + "; allowed: " + allow, allow);
    }

    public static ApiException forbidden(String message) {
        return new ApiException(403, "permission_error", "forbidden", null, message);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(401, "authentication_error", "invalid_api_key", null, message);
    }

    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "request body is larger than " + limit + " bytes");
    }
}

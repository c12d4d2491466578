package io.corral.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.corral.api.CancelledException;
import io.corral.api.ContentBlockedException;
import io.corral.api.ContextOverflowException;
import io.corral.api.CorralException;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.InvalidModelException;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.NotFoundException;
import io.corral.api.RateLimitedException;
import io.corral.api.UnavailableException;

/** The one table from errors to HTTP status and OpenAI-style error bodies. */
public final class Errors {

    public record Mapped(int status, String type, String code, String param, String message) {
    }

    /** What a stream still running when the server stops ends with. */
    public static final Mapped SHUTTING_DOWN = new Mapped(503, "server_error", "server_shutting_down", null,
            "the server is shutting down");

    private Errors() {
    }

    public static Mapped map(Throwable t) {
        return switch (t) {
            case ApiException e -> new Mapped(e.status, e.type, e.code, e.param, e.getMessage());
            case EventStream.ClientGone e -> new Mapped(499, "server_error", "client_closed", null, e.getMessage());
            case InvalidRequestException e -> new Mapped(400, "invalid_request_error", e.code(), e.param(), e.getMessage());
            case ContextOverflowException e -> new Mapped(400, "invalid_request_error", e.code(), "messages", e.getMessage());
            case ModelNotFoundException e -> new Mapped(404, "invalid_request_error", e.code(), "model", e.getMessage());
            case NotFoundException e -> new Mapped(404, "invalid_request_error", e.code(), e.param(), e.getMessage());
            case ContentBlockedException e -> new Mapped(400, "invalid_request_error", e.code(), null, e.getMessage());
            case RateLimitedException e -> new Mapped(429, "rate_limit_error", e.code(), null, e.getMessage());
            case InferenceTimeoutException e -> new Mapped(504, "server_error", e.code(), null, e.getMessage());
            case UnavailableException e -> new Mapped(503, "server_error", e.code(), null, e.getMessage());
            case CancelledException e -> new Mapped(499, "server_error", e.code(), null, e.getMessage());
            case InvalidModelException e -> new Mapped(500, "server_error", e.code(), null, e.getMessage());
            case CorralException e -> new Mapped(500, "server_error", e.code(), null, e.getMessage());
            default -> new Mapped(500, "server_error", "internal_error", null, "internal error: " + t.getClass().getSimpleName());
        };
    }

    /** What the HTTP layer refuses before any handler runs (malformed HTTP, a head or body too large). */
    public static Mapped transport(int status, String message) {
        return status >= 500 ? new Mapped(status, "server_error", "server_error", null, message)
                : new Mapped(status, "invalid_request_error", status == 413 ? "request_too_large" : status == 431 ? "headers_too_large" : "invalid_request", null, message);
    }

    /**
     * The error body in the shape of the API family {@code path} belongs to: Ollama's ({@code {"error": "message"}}, what
     * its clients read) under {@code /api/}, OpenAI's everywhere else.
     */
    public static ObjectNode body(Mapped m, String path) {
        if (path != null && path.startsWith("/api/")) {
            return Json.MAPPER.createObjectNode().put("error", m.message());
        }
        return body(m);
    }

    public static ObjectNode body(Mapped m) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", m.message());
        error.put("type", m.type());
        error.put("code", m.code());
        error.put("param", m.param());
        return root;
    }

    /** A whole error answer, for code on the event loop (the transport, the gateway). */
    public static FullHttpResponse response(Mapped m, String requestId) {
        return response(m, requestId, null);
    }

    /** The same, with the body in the shape of the API family {@code path} (or null) belongs to. */
    public static FullHttpResponse response(Mapped m, String requestId, String path) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(m.status()),
                Unpooled.wrappedBuffer(Json.bytes(body(m, path))));
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
        h.set(Response.REQUEST_ID, requestId);
        if (m.status() == 429) {
            h.set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        return res;
    }
}

package io.corral.server.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/**
 * The answer to one decoded {@link Request}, written from the handler's (virtual) thread: one whole body
 * ({@link #json}, {@link #send}), or a stream of Server-Sent Events ({@link #events}) that waits while the
 * client reads slowly and fails with {@link EventStream.ClientGone} once it has left.
 */
public final class Response {

    /** The request's id, on every answer. */
    public static final AsciiString REQUEST_ID = AsciiString.cached("X-Request-Id");
    /** Which runner answered, and after how many tries (decoded and forwarded answers alike). */
    public static final AsciiString RUNNER = AsciiString.cached("X-Corral-Runner");
    public static final AsciiString ATTEMPTS = AsciiString.cached("X-Corral-Attempts");

    private final Connection connection;
    private final String requestId;
    private final HttpHeaders headers = new DefaultHttpHeaders(false);
    private int status = 200;
    private boolean sent;
    private EventStream events;

    Response(Connection connection, String requestId) {
        this.connection = connection;
        this.requestId = requestId;
    }

    public Response header(CharSequence name, Object value) {
        headers.set(name, value);
        return this;
    }

    /** The status sent (or to be sent). */
    public int status() {
        return status;
    }

    /** Whether the head is out (then an error can only be reported in the body). */
    public boolean sent() {
        return sent;
    }

    public void json(int status, Object body) {
        send(status, HttpHeaderValues.APPLICATION_JSON, Json.bytes(body));
    }

    public void send(int status, CharSequence contentType, byte[] body) {
        if (sent) {
            throw new IllegalStateException("the answer was already sent");
        }
        sent = true;
        this.status = status;
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        head(res.headers());
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        connection.writeAndFlush(res);
    }

    /** Begins a 200 {@code text/event-stream} answer. */
    public EventStream events() {
        return stream(HttpHeaderValues.TEXT_EVENT_STREAM, false);
    }

    /** Begins a 200 {@code application/x-ndjson} answer: one JSON object a line (Ollama's streams). */
    public EventStream jsonLines() {
        return stream("application/x-ndjson", true);
    }

    private EventStream stream(CharSequence contentType, boolean lines) {
        if (sent) {
            throw new IllegalStateException("the answer was already sent");
        }
        sent = true;
        status = 200;
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head(res.headers());
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        res.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setTransferEncodingChunked(res, true);
        connection.write(res);
        events = new EventStream(this, lines);
        return events;
    }

    /** One piece of a stream, flushed; waits while the client is not reading. */
    void chunk(byte[] bytes) {
        connection.awaitWritable();
        connection.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes)));
    }

    /** Marks a stream's status as failed for the log (the head said 200 already). */
    void failedWith(int status) {
        this.status = status;
    }

    /** A handler failed after its stream began: the stream ends with an error event (the status is sent). */
    void failStream(Errors.Mapped m) {
        if (events != null && connection.open()) {
            events.fail(m);
        }
    }

    /** Ends the answer: a stream's last chunk. Called by the pipeline when the handler returns. */
    void end() {
        if (events != null && connection.open()) {
            connection.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    private void head(HttpHeaders h) {
        h.set(headers);
        h.set(REQUEST_ID, requestId);
    }
}

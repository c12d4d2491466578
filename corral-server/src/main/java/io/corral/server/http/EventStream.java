package io.corral.server.http;

import java.nio.charset.StandardCharsets;

/**
 * Writes Server-Sent Events frames ({@code data: ...\n\n}), or JSON lines (NDJSON, Ollama's streams), each flushed,
 * so a client sees every token as it is made. A write to a client that has gone fails with {@link ClientGone}.
 */
public final class EventStream {

    /** The client closed the connection. */
    public static final class ClientGone extends RuntimeException {
        ClientGone() {
            super("the client closed the connection", null, false, false);
        }
    }

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.UTF_8);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.UTF_8);
    /** The stream's last frame (shared: never write into it). */
    public static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    private static final byte[] NEWLINE = "\n".getBytes(StandardCharsets.UTF_8);

    private final Response response;
    private final boolean lines;

    EventStream(Response response, boolean lines) {
        this.response = response;
        this.lines = lines;
    }

    /** One frame: {@code data: <json>} and a blank line, in one array (one write, one chunk on the wire). */
    public static byte[] frame(Object json) {
        byte[] body = Json.bytes(json);
        byte[] frame = new byte[DATA.length + body.length + END.length];
        System.arraycopy(DATA, 0, frame, 0, DATA.length);
        System.arraycopy(body, 0, frame, DATA.length, body.length);
        System.arraycopy(END, 0, frame, DATA.length + body.length, END.length);
        return frame;
    }

    public void data(Object json) {
        if (lines) {
            byte[] body = Json.bytes(json);
            byte[] line = java.util.Arrays.copyOf(body, body.length + 1);
            line[body.length] = NEWLINE[0];
            response.chunk(line);
        } else {
            response.chunk(frame(json));
        }
    }

    /** Ends a stream that has begun with an error event and {@code [DONE]}, if anyone still listens. */
    public void fail(Errors.Mapped error) {
        response.failedWith(error.status());
        try {
            if (lines) { // Ollama's error line
                data(java.util.Map.of("error", error.message()));
                return;
            }
            data(Errors.body(error));
            done();
        } catch (ClientGone ignored) {
            // nobody is listening
        }
    }

    /** Ends an SSE stream with {@code [DONE]}; JSON lines end with their last object. */
    public void done() {
        if (!lines) {
            response.chunk(DONE);
        }
    }
}

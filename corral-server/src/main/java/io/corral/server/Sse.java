package io.corral.server;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes Server-Sent Events frames ({@code data: ...\n\n}) and flushes each one, so a client sees
 * every token as it is made. A write to a client that has gone fails with {@link ClientGone}.
 */
final class Sse {

    /** The client closed the connection. */
    static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super(cause);
        }
    }

    private final OutputStream out;

    Sse(OutputStream out) {
        this.out = out;
    }

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.UTF_8);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.UTF_8);
    /** The stream's last frame (shared: never write into it). */
    static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    /** One frame: {@code data: <json>} and a blank line, in one array (one write, one chunk on the wire). */
    static byte[] frame(Object json) {
        byte[] body = Json.bytes(json);
        byte[] frame = new byte[DATA.length + body.length + END.length];
        System.arraycopy(DATA, 0, frame, 0, DATA.length);
        System.arraycopy(body, 0, frame, DATA.length, body.length);
        System.arraycopy(END, 0, frame, DATA.length + body.length, END.length);
        return frame;
    }

    void data(Object json) {
        send(frame(json));
    }

    /** Ends a stream that has begun with an error event and {@code [DONE]}, if anyone still listens. */
    void fail(Errors.Mapped error) {
        try {
            data(Errors.body(error));
            done();
        } catch (ClientGone ignored) {
            // nobody is listening
        }
    }

    void done() {
        send(DONE);
    }

    private void send(byte[] frame) {
        try {
            out.write(frame);
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        } catch (UncheckedIOException e) {
            throw new ClientGone(e.getCause());
        }
    }
}

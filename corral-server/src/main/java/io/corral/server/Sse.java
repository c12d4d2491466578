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

    void data(Object json) {
        send("data: " + Json.text(json) + "\n\n");
    }

    void done() {
        send("data: [DONE]\n\n");
    }

    private void send(String frame) {
        try {
            out.write(frame.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        } catch (UncheckedIOException e) {
            throw new ClientGone(e.getCause());
        }
    }
}

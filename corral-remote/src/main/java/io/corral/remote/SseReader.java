package io.corral.remote;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads Server-Sent Events as real engines send them: {@code data:} lines (one or several per event),
 * events ended by a blank line or by the end of the stream, {@code :} keep-alive comments and other
 * fields ignored, {@code [DONE]} optional.
 */
final class SseReader {

    static final String DONE = "[DONE]";

    private final BufferedReader in;

    SseReader(BufferedReader in) {
        this.in = in;
    }

    /** The next event's data, {@link #DONE}, or null at the end of the stream. */
    String next() throws IOException {
        StringBuilder data = null;
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty()) {
                if (data != null) {
                    return data.toString();
                }
                continue;
            }
            if (line.startsWith(":")) {
                continue; // comment / keep-alive
            }
            if (line.startsWith("data:")) {
                String value = line.substring(line.startsWith("data: ") ? 6 : 5);
                if (data == null) {
                    data = new StringBuilder(value);
                } else {
                    data.append('\n').append(value);
                }
                if (value.equals(DONE)) {
                    return DONE;
                }
            }
            // event:, id:, retry: carry nothing we need
        }
        return data == null ? null : data.toString();
    }
}

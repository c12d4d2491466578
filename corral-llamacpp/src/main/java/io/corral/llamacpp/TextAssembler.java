package io.corral.llamacpp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns token bytes into text that is safe to show: it holds back an incomplete UTF-8 character, and
 * any tail that could still become a stop sequence. Once a stop sequence appears, the text before it
 * is released and everything from it on is dropped.
 */
final class TextAssembler {

    private final List<String> stops;
    private final ByteArrayOutputStream pendingBytes = new ByteArrayOutputStream();
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    TextAssembler(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds a token's bytes; returns the text that can be released now (possibly ""). */
    String append(byte[] piece) {
        if (stopped) {
            return "";
        }
        pendingBytes.writeBytes(piece);
        byte[] bytes = pendingBytes.toByteArray();
        int complete = completeLength(bytes);
        held.append(new String(bytes, 0, complete, StandardCharsets.UTF_8));
        pendingBytes.reset();
        pendingBytes.write(bytes, complete, bytes.length - complete);
        return release();
    }

    /** True once a stop sequence has matched. */
    boolean stopped() {
        return stopped;
    }

    /** At the end of generation: everything still held (an incomplete character is replaced). */
    String flush() {
        if (stopped) {
            return "";
        }
        held.append(new String(pendingBytes.toByteArray(), StandardCharsets.UTF_8));
        pendingBytes.reset();
        String s = held.toString();
        held.setLength(0);
        return s;
    }

    private String release() {
        int at = Integer.MAX_VALUE;
        for (String stop : stops) {
            int i = held.indexOf(stop);
            if (i >= 0) {
                at = Math.min(at, i);
            }
        }
        if (at != Integer.MAX_VALUE) {
            stopped = true;
            String s = held.substring(0, at);
            held.setLength(0);
            return s;
        }
        int keep = 0;
        for (String stop : stops) {
            keep = Math.max(keep, partialMatch(held, stop));
        }
        String s = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return s;
    }

    /** The length of the longest suffix of {@code text} that is a proper prefix of {@code stop}. */
    private static int partialMatch(CharSequence text, String stop) {
        for (int n = Math.min(stop.length() - 1, text.length()); n > 0; n--) {
            if (stop.regionMatches(0, text.toString(), text.length() - n, n)) {
                return n;
            }
        }
        return 0;
    }

    /** How many leading bytes form whole UTF-8 characters (an incomplete last one is left out). */
    static int completeLength(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xff;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for the lead byte
            }
            int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}

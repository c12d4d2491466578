package io.corral.server.gateway;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Watches an upstream's SSE bytes as they are passed on, across read boundaries, for what says how the
 * stream ended: a finish reason ({@code "finish_reason": "stop"}, not {@code null}) and a closing
 * {@code data: [DONE]}. A stream that stops with neither was cut short.
 */
final class StreamEnd {

    private static final byte[] FINISH = "\"finish_reason\"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.UTF_8);
    private static final int CARRY = 32; // longer than either marker with its spacing

    private byte[] seen = new byte[0]; // the last bytes of the previous read, then this read's
    private int length;
    private boolean finished;

    /** Notes the bytes of {@code buf} (not consumed). */
    void see(ByteBuf buf) {
        int n = buf.readableBytes();
        int carry = Math.min(CARRY, length);
        if (seen.length < carry + n) {
            byte[] bigger = new byte[carry + n];
            System.arraycopy(seen, length - carry, bigger, 0, carry);
            seen = bigger;
        } else {
            System.arraycopy(seen, length - carry, seen, 0, carry);
        }
        buf.getBytes(buf.readerIndex(), seen, carry, n);
        length = carry + n;
        finished = finished || hasFinishReason(seen, length);
    }

    /** A frame carried a finish reason. */
    boolean finished() {
        return finished;
    }

    /** The bytes so far end with {@code data: [DONE]}. */
    boolean done() {
        int end = length;
        while (end > 0 && Character.isWhitespace(seen[end - 1])) {
            end--;
        }
        return end >= DONE.length && Arrays.equals(seen, end - DONE.length, end, DONE, 0, DONE.length);
    }

    private static boolean hasFinishReason(byte[] b, int length) {
        outer:
        for (int i = 0; i + FINISH.length < length; i++) {
            for (int j = 0; j < FINISH.length; j++) {
                if (b[i + j] != FINISH[j]) {
                    continue outer;
                }
            }
            int k = i + FINISH.length;
            while (k < length && b[k] == ' ') {
                k++;
            }
            if (k < length && b[k] == ':') {
                k++;
                while (k < length && b[k] == ' ') {
                    k++;
                }
                if (k < length && b[k] == '"') {
                    return true;
                }
            }
        }
        return false;
    }
}

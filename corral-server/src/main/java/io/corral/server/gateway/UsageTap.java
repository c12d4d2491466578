package io.corral.server.gateway;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.corral.server.http.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * Reads a forwarded answer's token usage as it passes, so forwarded requests are counted like decoded
 * ones. A stream is passed on whole frames at a time ({@code data: ...} and a blank line); the usage-only
 * chunk ({@code "choices": []} with {@code "usage"}) is read, and kept from a client that did not ask for
 * it (Corral asked the host for it). A JSON answer is passed on as it comes; its usage is read from its
 * last bytes, where OpenAI-style hosts write it.
 */
final class UsageTap {

    private static final ByteBuf USAGE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("\"usage\"".getBytes(StandardCharsets.UTF_8))); // read-only: shared by the loops
    private static final byte[] PROMPT_KEY = "\"prompt_tokens\"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] COMPLETION_KEY = "\"completion_tokens\"".getBytes(StandardCharsets.UTF_8);
    private static final int TAIL = 1024;

    private final boolean keepUsageChunk;
    private CompositeByteBuf carry;         // a stream's bytes after its last whole frame
    private final byte[] tail = new byte[TAIL];
    private int tailLength;
    private long promptTokens = -1;
    private long completionTokens = -1;

    /** @param keepUsageChunk whether the client asked for usage itself (then its chunk passes on) */
    UsageTap(boolean keepUsageChunk) {
        this.keepUsageChunk = keepUsageChunk;
    }

    long promptTokens() {
        return promptTokens;
    }

    long completionTokens() {
        return completionTokens;
    }

    /**
     * Takes a stream's next bytes (released here) and gives back the whole frames among them and before
     * them, less a usage-only chunk the client did not ask for; the rest waits for the next call.
     */
    ByteBuf frames(ByteBuf in, ByteBufAllocator alloc) {
        if (carry == null) {
            carry = alloc.compositeBuffer(64);
        }
        carry.addComponent(true, in);
        int start = carry.readerIndex();
        int end = start;
        int passFrom = start;
        ByteBuf out = null;
        int last = carry.writerIndex() - 1;
        // each newline found by the buffer's own search (a component at a time), not a byte at a time through the
        // composite's index checks, which cost a stream more than the rest of its forwarding
        for (int i = start, nl; i < last && (nl = carry.indexOf(i, last, (byte) '\n')) >= 0; ) {
            if (carry.getByte(nl + 1) != '\n') {
                i = nl + 1;
                continue;
            }
            int frameEnd = nl + 2;
            if (usageOnly(carry, end, frameEnd) && !keepUsageChunk) {
                out = copy(out, alloc, passFrom, end);
                passFrom = frameEnd; // this frame is kept from the client
            }
            end = frameEnd;
            i = frameEnd;
        }
        if (end == start) {
            return Unpooled.EMPTY_BUFFER;
        }
        // copied out: the carry's indices move when it lets go of what was read
        out = copy(out, alloc, passFrom, end);
        carry.readerIndex(end);
        carry.discardReadComponents();
        return out;
    }

    private ByteBuf copy(ByteBuf out, ByteBufAllocator alloc, int from, int to) {
        if (out == null) {
            out = alloc.buffer(Math.max(to - from, 16));
        }
        return out.writeBytes(carry, from, to - from);
    }

    /** A stream's bytes after its last whole frame (an unterminated last frame), and the end of reading. */
    ByteBuf rest() {
        if (carry == null) {
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf rest = carry;
        carry = null;
        return rest;
    }

    /** Drops what is held (the answer was abandoned). */
    void release() {
        if (carry != null) {
            carry.release();
            carry = null;
        }
    }

    /** Whether the frame holds usage; reads it, and says whether it is a usage-only chunk (no choices). */
    private boolean usageOnly(ByteBuf buf, int from, int to) {
        if (ByteBufUtil.indexOf(USAGE, buf.slice(from, to - from)) < 0) {
            return false;
        }
        String frame = buf.toString(from, to - from, StandardCharsets.UTF_8).strip();
        if (!frame.startsWith("data:")) {
            return false;
        }
        boolean noChoices = false;
        try (JsonParser p = Json.MAPPER.getFactory().createParser(frame.substring(5).strip())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            for (JsonToken t; (t = p.nextToken()) == JsonToken.FIELD_NAME; ) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("choices") && v == JsonToken.START_ARRAY) {
                    int elements = 0;
                    for (JsonToken e; (e = p.nextToken()) != JsonToken.END_ARRAY && e != null; ) {
                        p.skipChildren();
                        elements++;
                    }
                    noChoices = elements == 0;
                } else if (name.equals("usage") && v == JsonToken.START_OBJECT) {
                    for (JsonToken u; (u = p.nextToken()) == JsonToken.FIELD_NAME; ) {
                        String key = p.currentName();
                        p.nextToken();
                        if (key.equals("prompt_tokens")) {
                            promptTokens = p.getValueAsLong(-1);
                        } else if (key.equals("completion_tokens")) {
                            completionTokens = p.getValueAsLong(-1);
                        }
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (java.io.IOException e) {
            return false; // not JSON: passed on as it is
        }
        return noChoices;
    }

    /** Notes a JSON answer's bytes as they pass (not consumed): its last bytes are kept for the usage. */
    void json(ByteBuf in) {
        int n = in.readableBytes();
        if (n >= TAIL) {
            in.getBytes(in.readerIndex() + n - TAIL, tail, 0, TAIL);
            tailLength = TAIL;
            return;
        }
        int keep = Math.min(tailLength, TAIL - n);
        System.arraycopy(tail, tailLength - keep, tail, 0, keep);
        in.getBytes(in.readerIndex(), tail, keep, n);
        tailLength = keep + n;
    }

    /** Reads the usage of a JSON answer from its last bytes, once it is all through (bytes, no String). */
    void jsonDone() {
        long p = number(PROMPT_KEY);
        long c = number(COMPLETION_KEY);
        if (p >= 0 && c >= 0) {
            promptTokens = p;
            completionTokens = c;
        }
    }

    /** The whole number after the last {@code "key"} and its colon in the kept bytes, or -1. */
    private long number(byte[] key) {
        outer:
        for (int i = tailLength - key.length; i >= 0; i--) {
            for (int j = 0; j < key.length; j++) {
                if (tail[i + j] != key[j]) {
                    continue outer;
                }
            }
            int k = i + key.length;
            while (k < tailLength && (tail[k] == ' ' || tail[k] == ':' || tail[k] == '\n' || tail[k] == '\r' || tail[k] == '\t')) {
                k++;
            }
            long v = -1;
            while (k < tailLength && tail[k] >= '0' && tail[k] <= '9') {
                v = (v < 0 ? 0 : v * 10) + (tail[k++] - '0');
            }
            return v;
        }
        return -1;
    }
}

package io.corral.remote;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One keep-alive connection of {@link Http1Transport}: writes requests, parses answers, frames bodies.
 * Every socket read has a deadline ({@link Deadlines}): the response timeout until the headers are in,
 * then the idle timeout between reads of the body.
 */
final class Http1Connection {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Http1Transport pool;
    private final String hostPort;
    private final byte[] buf = new byte[16 * 1024];
    private int pos;
    private int lim;
    private boolean received;
    private boolean keepAlive;
    private long idleSince;
    private final Deadlines.Reads reads = new Deadlines.Reads(0, this::close);

    private Http1Connection(Socket socket, Http1Transport pool, String hostPort) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.pool = pool;
        this.hostPort = hostPort;
    }

    static Http1Connection open(InetSocketAddress address, Duration timeout, Http1Transport pool, String hostPort)
            throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true); // requests and SSE frames are small writes
            s.connect(address, (int) Math.max(1, timeout.toMillis()));
        } catch (SocketTimeoutException e) {
            s.close();
            throw new ConnectException("connect timed out after " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new Http1Connection(s, pool, hostPort);
    }

    long idleSince() {
        return idleSince;
    }

    boolean receivedAnything() {
        return received;
    }

    void send(byte[] head, byte[] body) throws IOException {
        received = false;
        if (body == null || body.length > 64 * 1024) {
            out.write(head);
            if (body != null) {
                out.write(body);
            }
        } else {
            byte[] all = new byte[head.length + body.length]; // one write, one packet
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            out.write(all);
        }
        out.flush();
    }

    /** Reads the status line and headers (waiting at most {@code responseTimeout}); the body follows. */
    Transport.Response receive(Duration responseTimeout, Duration idleTimeout, boolean head) throws IOException {
        reads.timeout(responseTimeout.toNanos());
        int code;
        do {
            int end = lineEnd();
            if (end - pos < 12 || !startsWith(pos, "HTTP/1.")) {
                throw new IOException("not an HTTP/1.x answer: " + text(pos, Math.min(end, pos + 40)));
            }
            keepAlive = buf[pos + 7] != '0';
            code = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
            pos = end + 1;
            if (code / 100 == 1) { // 100 Continue and other interim answers: skip their headers
                while (lineLength(lineEnd()) > 0) {
                    pos = lineEnd() + 1;
                }
                pos = lineEnd() + 1;
            }
        } while (code / 100 == 1);
        long length = -1;
        boolean chunked = false;
        String contentType = "";
        for (int end; lineLength(end = lineEnd()) > 0; pos = end + 1) {
            int stop = pos + lineLength(end);
            if (header(pos, stop, "content-length")) {
                length = Long.parseLong(value(pos, stop, 14));
            } else if (header(pos, stop, "transfer-encoding")) {
                chunked = value(pos, stop, 17).toLowerCase(java.util.Locale.ROOT).contains("chunked");
            } else if (header(pos, stop, "content-type")) {
                contentType = value(pos, stop, 12);
            } else if (header(pos, stop, "connection")) {
                keepAlive = !value(pos, stop, 10).equalsIgnoreCase("close");
            }
        }
        pos = lineEnd() + 1; // the blank line
        reads.timeout(idleTimeout.toNanos());
        Body body;
        if (head || code == 204 || code == 304) {
            body = new FixedBody(this, 0);
        } else if (chunked) {
            body = new ChunkedBody(this);
        } else if (length >= 0) {
            body = new FixedBody(this, length);
        } else {
            keepAlive = false;
            body = new FixedBody(this, Long.MAX_VALUE); // until the host closes
        }
        return new Transport.Response(code, contentType, body);
    }

    /** Makes sure a whole line is buffered at {@code pos}; returns the index of its {@code \n}. */
    private int lineEnd() throws IOException {
        int scanned = pos;
        while (true) {
            for (int i = scanned; i < lim; i++) {
                if (buf[i] == '\n') {
                    return i;
                }
            }
            if (pos > 0) { // make room: move what is unread to the front
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            scanned = lim;
            if (lim == buf.length) {
                throw new IOException("header line longer than " + buf.length + " bytes");
            }
            int n = readSocket(buf, lim, buf.length - lim);
            if (n <= 0) {
                throw new EOFException("the host closed the connection");
            }
            received = true;
            lim += n;
        }
    }

    /** The length of the line from {@code pos} ending at {@code end}, without its CR LF. */
    private int lineLength(int end) {
        return end > pos && buf[end - 1] == '\r' ? end - 1 - pos : end - pos;
    }

    private boolean startsWith(int at, String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            if (buf[at + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the header line {@code [from, to)} is {@code name:} (names are case-insensitive). */
    private boolean header(int from, int to, String name) {
        if (to - from <= name.length() || buf[from + name.length()] != ':') {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.toLowerCase(buf[from + i]) != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String value(int from, int to, int nameLength) {
        return text(from + nameLength + 1, to).strip();
    }

    private String text(int from, int to) {
        return new String(buf, from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** The size line of the next chunk (after the CR LF that ends the previous one), as a number. */
    long chunkSize(boolean first) throws IOException {
        int end = lineEnd();
        if (!first && lineLength(end) == 0) {
            pos = end + 1;
            end = lineEnd();
        }
        int stop = pos + lineLength(end);
        long size = 0;
        int digits = 0;
        for (int i = pos; i < stop && buf[i] != ';' && buf[i] != ' '; i++, digits++) {
            int d = Character.digit(buf[i], 16);
            if (d < 0 || digits > 15) {
                throw new IOException("bad chunk size: " + text(pos, stop));
            }
            size = size * 16 + d;
        }
        if (digits == 0) {
            throw new IOException("bad chunk size: " + text(pos, stop));
        }
        pos = end + 1;
        return size;
    }

    /** Skips a chunked body's trailers and the blank line that ends it. */
    void skipTrailers() throws IOException {
        for (int end; ; ) {
            end = lineEnd();
            int length = lineLength(end);
            pos = end + 1;
            if (length == 0) {
                return;
            }
        }
    }

    /** The body is over: back to the pool when it was read to its end and the host keeps it open. */
    void finish(boolean readToEnd) {
        if (readToEnd && keepAlive) {
            idleSince = System.nanoTime();
            pool.release(this, hostPort);
        } else {
            close();
        }
    }

    /** One read from the socket, ended by {@link Deadlines} if it waits longer than the timeout. */
    private int readSocket(byte[] b, int off, int len) throws IOException {
        return reads.read(() -> in.read(b, off, len));
    }

    void close() {
        reads.stop();
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private int fill() throws IOException {
        pos = 0;
        lim = Math.max(0, readSocket(buf, 0, buf.length));
        if (lim > 0) {
            received = true;
        }
        return lim;
    }

    /** Up to {@code len} bytes: what is buffered, else one read from the socket; -1 at its end. */
    int read(byte[] b, int off, int len) throws IOException {
        if (pos == lim) {
            if (len >= buf.length) {
                int n = readSocket(b, off, len);
                received |= n > 0;
                return n;
            }
            if (fill() == 0) {
                return -1;
            }
        }
        int n = Math.min(len, lim - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    /** An answer's body over a connection: read to its end, it gives the connection back on close. */
    private abstract static class Body extends InputStream {
        final Http1Connection c;
        boolean done;
        volatile boolean closed;

        Body(Http1Connection c) {
            this.c = c;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                c.finish(done);
            }
        }
    }

    /** A body of known length (or, with {@code Long.MAX_VALUE}, one that lasts until the host closes). */
    private static final class FixedBody extends Body {
        private long remaining;

        FixedBody(Http1Connection c, long length) {
            super(c);
            remaining = length;
            done = length == 0;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining == 0) {
                return -1;
            }
            int n = c.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                if (remaining != Long.MAX_VALUE) {
                    throw new EOFException("the host closed the connection with " + remaining + " bytes to come");
                }
                remaining = 0;
                done = true;
                return -1;
            }
            if (remaining != Long.MAX_VALUE) {
                remaining -= n;
                done = remaining == 0;
            }
            return n;
        }

        /** A body of known length is read into one array of that length. */
        @Override
        public byte[] readAllBytes() throws IOException {
            if (remaining > Integer.MAX_VALUE - 8) {
                return super.readAllBytes();
            }
            byte[] all = new byte[(int) remaining];
            for (int off = 0; off < all.length; ) {
                off += read(all, off, all.length - off); // a short body fails in read
            }
            return all;
        }
    }

    /** A chunked body: returns data chunk by chunk, so each SSE frame is passed on as it comes. */
    private static final class ChunkedBody extends Body {
        private long chunkLeft;
        private boolean first = true;

        ChunkedBody(Http1Connection c) {
            super(c);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (chunkLeft == 0) {
                chunkLeft = c.chunkSize(first);
                first = false;
                if (chunkLeft == 0) {
                    c.skipTrailers(); // they carry nothing we need
                    done = true;
                    return -1;
                }
            }
            int n = c.read(b, off, (int) Math.min(len, chunkLeft));
            if (n < 0) {
                throw new EOFException("the host cut the stream in the middle of a chunk");
            }
            chunkLeft -= n;
            return n;
        }
    }
}

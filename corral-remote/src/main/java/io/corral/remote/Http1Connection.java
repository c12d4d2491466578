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

/** One keep-alive connection of {@link Http1Transport}: writes requests, parses answers, frames bodies. */
final class Http1Connection {

    private static final int MAX_LINE = 16 * 1024;

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
        socket.setSoTimeout((int) Math.max(1, responseTimeout.toMillis()));
        String status;
        do {
            status = line();
        } while (status.startsWith("HTTP/1.1 1")); // 100 Continue and other interim answers
        if (!status.startsWith("HTTP/1.") || status.length() < 12) {
            throw new IOException("not an HTTP/1.x answer: " + status.substring(0, Math.min(40, status.length())));
        }
        int code = Integer.parseInt(status.substring(9, 12));
        keepAlive = !status.startsWith("HTTP/1.0");
        long length = -1;
        boolean chunked = false;
        String contentType = "";
        for (String h; !(h = line()).isEmpty(); ) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = Long.parseLong(value);
            } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
            } else if (name.equalsIgnoreCase("Content-Type")) {
                contentType = value;
            } else if (name.equalsIgnoreCase("Connection")) {
                keepAlive = !value.equalsIgnoreCase("close");
            }
        }
        socket.setSoTimeout((int) Math.max(1, idleTimeout.toMillis()));
        Http1Transport.Body body;
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

    /** The body is over: back to the pool when it was read to its end and the host keeps it open. */
    void finish(boolean readToEnd) {
        if (readToEnd && keepAlive) {
            idleSince = System.nanoTime();
            pool.release(this, hostPort);
        } else {
            close();
        }
    }

    void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private int fill() throws IOException {
        pos = 0;
        lim = Math.max(0, in.read(buf, 0, buf.length));
        if (lim > 0) {
            received = true;
        }
        return lim;
    }

    /** Up to {@code len} bytes: what is buffered, else one read from the socket; -1 at its end. */
    int read(byte[] b, int off, int len) throws IOException {
        if (pos == lim) {
            if (len >= buf.length) {
                int n = in.read(b, off, len);
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

    /** One CRLF-ended line (ISO-8859-1, as HTTP heads are). */
    String line() throws IOException {
        StringBuilder sb = null;
        while (true) {
            if (pos == lim && fill() == 0) {
                throw new EOFException("the host closed the connection");
            }
            int start = pos;
            while (pos < lim && buf[pos] != '\n') {
                pos++;
            }
            int end = pos;
            boolean complete = pos < lim;
            if (complete) {
                pos++; // past \n
            }
            String part = new String(buf, start, end - start, StandardCharsets.ISO_8859_1);
            sb = sb == null ? new StringBuilder(part) : sb.append(part);
            if (sb.length() > MAX_LINE) {
                throw new IOException("header line longer than " + MAX_LINE + " bytes");
            }
            if (complete) {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
        }
    }

    /** A body of known length (or, with {@code Long.MAX_VALUE}, one that lasts until the host closes). */
    private static final class FixedBody extends Http1Transport.Body {
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
    }

    /** A chunked body: returns data chunk by chunk, so each SSE frame is passed on as it comes. */
    private static final class ChunkedBody extends Http1Transport.Body {
        private long chunkLeft;

        ChunkedBody(Http1Connection c) {
            super(c);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (chunkLeft == 0) {
                String size = c.line();
                if (size.isEmpty()) { // the CRLF that ends the previous chunk
                    size = c.line();
                }
                int ext = size.indexOf(';');
                try {
                    chunkLeft = Long.parseLong((ext < 0 ? size : size.substring(0, ext)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size: " + size);
                }
                if (chunkLeft == 0) {
                    while (!c.line().isEmpty()) {
                        // trailers carry nothing we need
                    }
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

package io.corral.remote;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A lean HTTP/1.1 client for plain {@code http://} hosts: blocking sockets (cheap on virtual threads), kept
 * alive in a pool per host, one write per request, bodies read straight from the socket (fixed length,
 * chunked, or until close). Read timeouts are deadlines kept by one shared thread ({@link Deadlines}).
 * A request on a pooled connection that the host had already closed is sent once more on a new one.
 * Measured against the JDK client in docs/BENCHMARKS.md.
 */
final class Http1Transport implements Transport {

    static final Http1Transport SHARED = new Http1Transport();

    /** Hosts close idle keep-alive connections (Node after 5 s); older ones are not reused. */
    private static final long MAX_IDLE_NANOS = 4_000_000_000L;
    private static final int MAX_IDLE_PER_HOST = 256;

    private final Map<String, Idle> idle = new ConcurrentHashMap<>();

    /** A host's idle connections, the most recently used first, and how many there are. */
    private record Idle(Deque<Http1Connection> connections, java.util.concurrent.atomic.AtomicInteger size) {
    }

    @Override
    public Response send(Request r) throws IOException {
        URI uri = r.uri();
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        String hostPort = uri.getHost() + ":" + port;
        byte[] head = head(r, hostPort);
        while (true) {
            Http1Connection c = pooled(hostPort);
            boolean reused = c != null;
            if (c == null) {
                c = Http1Connection.open(new InetSocketAddress(uri.getHost(), port), r.connectTimeout(), this, hostPort);
            }
            try {
                c.send(head, r.body());
                return c.receive(r.responseTimeout(), r.idleTimeout(), r.method().equals("HEAD"));
            } catch (SocketTimeoutException e) {
                c.close();
                throw e;
            } catch (IOException e) {
                c.close();
                if (!reused || c.receivedAnything()) {
                    throw e;
                }
                // the host had closed this pooled connection before our request: try a fresh one
            }
        }
    }

    private static byte[] head(Request r, String hostPort) {
        String path = r.uri().getRawPath() + (r.uri().getRawQuery() == null ? "" : "?" + r.uri().getRawQuery());
        return RequestHead.of(r.method(), path, hostPort, r.authorization(), r.body() == null ? -1 : r.body().length);
    }

    private Http1Connection pooled(String hostPort) {
        Idle q = idle.get(hostPort);
        if (q == null) {
            return null;
        }
        for (Http1Connection c; (c = q.connections().pollFirst()) != null; ) {
            q.size().decrementAndGet();
            if (System.nanoTime() - c.idleSince() < MAX_IDLE_NANOS) {
                return c;
            }
            c.close();
        }
        return null;
    }

    /** A connection whose answer was read to the end goes back to its host's pool. */
    void release(Http1Connection c, String hostPort) {
        Idle q = idle.computeIfAbsent(hostPort, k -> new Idle(new ConcurrentLinkedDeque<>(), new java.util.concurrent.atomic.AtomicInteger()));
        if (q.size().incrementAndGet() <= MAX_IDLE_PER_HOST) {
            q.connections().offerFirst(c); // the most recently used first: it is the least likely to have been closed
        } else {
            q.size().decrementAndGet();
            c.close();
        }
    }
}

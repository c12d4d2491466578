package io.corral.remote;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;

/**
 * How requests reach a host. Plain {@code http://} hosts (local engines) go through {@link Http1Transport},
 * our lean HTTP/1.1 client; {@code https://} hosts (clouds) through {@link JdkTransport}, the JDK client with
 * TLS and HTTP/2. Failures are {@link java.net.ConnectException} (cannot connect),
 * {@link java.net.SocketTimeoutException} (no answer or a silent stream past its timeout) or another
 * {@link IOException}; the provider turns them into Corral's typed errors.
 */
interface Transport {

    /** Sends a request and returns once the status and headers are in; the body is read from the answer. */
    Response send(Request request) throws IOException;

    /**
     * One request: {@code body} is JSON (or null for a GET), {@code authorization} a header value or null.
     *
     * @param connectTimeout  to open a connection
     * @param responseTimeout from the request to the status line
     * @param idleTimeout     the longest silence while the body is read
     */
    record Request(String method, URI uri, String authorization, byte[] body,
                   Duration connectTimeout, Duration responseTimeout, Duration idleTimeout) {
    }

    /** An answer; closing the body gives a fully read connection back to the pool. */
    record Response(int status, String contentType, InputStream body) {
    }

    /** The transport for a base URL. */
    static Transport of(String baseUrl) {
        return baseUrl.startsWith("https:") ? JdkTransport.SHARED : Http1Transport.SHARED;
    }

    String ACCEPT = "text/event-stream, application/json";
}

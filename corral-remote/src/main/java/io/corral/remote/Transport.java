package io.corral.remote;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;

/**
 * How requests reach a host: one client for {@code http://} and {@code https://} hosts alike,
 * {@link NettyTransport} (the gateway's pooled Netty connections, read by a blocking caller). Failures are {@link java.net.ConnectException} (cannot connect),
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
     * @param caFile          a CA (PEM) an https host may be signed by, besides the platform's; null for none
     */
    record Request(String method, URI uri, String authorization, byte[] body,
                   Duration connectTimeout, Duration responseTimeout, Duration idleTimeout, java.util.Map<String, String> headers,
                   java.nio.file.Path caFile) {
        public Request {
            headers = headers == null ? java.util.Map.of() : java.util.Map.copyOf(headers);
        }

        Request(String method, URI uri, String authorization, byte[] body, Duration connectTimeout, Duration responseTimeout,
                Duration idleTimeout, java.util.Map<String, String> headers) {
            this(method, uri, authorization, body, connectTimeout, responseTimeout, idleTimeout, headers, null);
        }

        Request(String method, URI uri, String authorization, byte[] body, Duration connectTimeout, Duration responseTimeout,
                Duration idleTimeout) {
            this(method, uri, authorization, body, connectTimeout, responseTimeout, idleTimeout, null, null);
        }
    }

    /** An answer; closing the body gives a fully read connection back to the pool. */
    record Response(int status, String contentType, InputStream body) {
    }

    /** The transport for a base URL. */
    static Transport of(String baseUrl) {
        return NettyTransport.SHARED;
    }

    String ACCEPT = "text/event-stream, application/json";
}

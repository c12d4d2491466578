package io.corral.remote;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;

/**
 * A runner that speaks the OpenAI wire protocol itself, so a gateway can forward a request's bytes
 * untouched instead of decoding and re-encoding them. The gateway does the I/O; the runner says where
 * its host is and what a failure means, so both paths report the same typed errors.
 */
public interface OpenAiWire {

    /** Where the host is and how to reach it. */
    Endpoint endpoint();

    /** The typed error for a host's answer other than 2xx, given (the start of) its body. */
    RuntimeException refused(int status, String body);

    /** The typed error for a connection that failed, or a host that did not answer within {@code timeout}. */
    RuntimeException unreachable(IOException cause, Duration timeout);

    /**
     * @param baseUrl          the OpenAI-style base, ending in {@code /v1}
     * @param authorization    the {@code Authorization} header to send, or null
     * @param connectTimeout   to open a connection
     * @param firstByteTimeout from the request to the response headers
     * @param idleTimeout      the longest silence inside an answer
     * @param caFile           a CA (PEM) trusted for this host besides the platform's, or null
     */
    record Endpoint(URI baseUrl, String authorization, Duration connectTimeout, Duration firstByteTimeout,
                    Duration idleTimeout, java.nio.file.Path caFile) {

        /** An endpoint trusting the platform's CAs only. */
        Endpoint(URI baseUrl, String authorization, Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout) {
            this(baseUrl, authorization, connectTimeout, firstByteTimeout, idleTimeout, null);
        }

        public boolean tls() {
            return baseUrl.getScheme().equals("https");
        }

        public int port() {
            return baseUrl.getPort() >= 0 ? baseUrl.getPort() : tls() ? 443 : 80;
        }
    }
}

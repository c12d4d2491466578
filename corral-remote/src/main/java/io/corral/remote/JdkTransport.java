package io.corral.remote;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * The JDK's HTTP client, for {@code https://} hosts: TLS, HTTP/2 where the server offers it, redirects.
 * Idle timeouts inside a body are kept by {@link Deadlines}.
 */
final class JdkTransport implements Transport {

    static final JdkTransport SHARED = new JdkTransport();

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_2)
            .connectTimeout(Duration.ofSeconds(5))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    @Override
    public Response send(Request r) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(r.uri()).timeout(r.responseTimeout()).header("Accept", ACCEPT);
        if (r.authorization() != null) {
            b.header("Authorization", r.authorization());
        }
        if (r.body() != null) {
            b.header("Content-Type", "application/json").method(r.method(), HttpRequest.BodyPublishers.ofByteArray(r.body()));
        } else {
            b.method(r.method(), HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<InputStream> res = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            return new Response(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""),
                    new IdleTimeout(res.body(), r.idleTimeout()));
        } catch (HttpConnectTimeoutException e) {
            throw new ConnectException("connect timed out after " + r.connectTimeout().toMillis() + " ms");
        } catch (HttpTimeoutException e) {
            throw new SocketTimeoutException(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    /** A body whose reads wait at most the idle timeout ({@link Deadlines}). */
    private static final class IdleTimeout extends FilterInputStream {
        private final Deadlines.Reads reads;

        IdleTimeout(InputStream in, Duration timeout) {
            super(in);
            this.reads = new Deadlines.Reads(timeout.toNanos(), this::closeQuietly);
        }

        private void closeQuietly() {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing is the point
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return reads.read(() -> in.read(b, off, len));
        }

        @Override
        public void close() throws IOException {
            reads.stop();
            in.close();
        }
    }
}

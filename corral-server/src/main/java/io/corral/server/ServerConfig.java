package io.corral.server;

import io.corral.server.http.TrustedProxies;

import java.time.Duration;
import java.util.List;

/**
 * How the server listens.
 *
 * @param allowRemote    binding to a non-loopback address needs this, and then an API key
 * @param apiKeys        accepted bearer keys; empty means no key is needed (loopback only)
 * @param maxBodyBytes   largest request body; more is refused with 413
 * @param maxQueued      requests per model that may run or wait for a free slot; beyond that, 429
 * @param logContent     debug switch: the access log also carries prompts and answers, keys redacted
 * @param idleTimeout    a client connection silent this long, with no answer owed, is closed; one that reads nothing
 *                       of a stream for this long is hung up on, and its generation stops
 * @param trustedProxies addresses or CIDR blocks whose {@code X-Forwarded-For} names the client
 * @param maxInputTokens the most tokens one embeddings request may carry (estimated: 4 bytes a token)
 */
public record ServerConfig(String host, int port, boolean allowRemote, List<String> apiKeys, long maxBodyBytes,
                           int maxQueued, boolean logContent, Duration idleTimeout, List<String> trustedProxies,
                           long maxInputTokens, Tls tls, io.corral.server.http.RateLimits.Config rateLimits,
                           List<String> adminKeys, Duration shutdownGrace) {

    /** How long running requests may finish when the server stops, before their streams end with an error event. */
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

    /**
     * HTTPS: the server's certificate chain and its private key, PEM files ({@code --tls-cert}, {@code --tls-key};
     * {@code server.tls_cert}, {@code server.tls_key}); the key in PKCS#8 ({@code BEGIN PRIVATE KEY}).
     */
    public record Tls(java.nio.file.Path cert, java.nio.file.Path key) {
        public Tls {
            if (cert == null || key == null) {
                throw new IllegalArgumentException("TLS needs both a certificate (tls_cert) and its key (tls_key)");
            }
            for (java.nio.file.Path p : List.of(cert, key)) {
                if (!java.nio.file.Files.isReadable(p)) {
                    throw new IllegalArgumentException((p == cert ? "tls_cert " : "tls_key ") + p + " cannot be read");
                }
            }
        }

        /** Both given, or neither (null); one without the other is refused. */
        public static Tls of(java.nio.file.Path cert, java.nio.file.Path key) {
            return cert == null && key == null ? null : new Tls(cert, key);
        }
    }

    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

    public static final int DEFAULT_PORT = 8321;

    /** OpenAI's bound on the tokens of one embeddings request. */
    public static final long DEFAULT_MAX_INPUT_TOKENS = 300_000;

    public ServerConfig {
        rateLimits = rateLimits == null ? io.corral.server.http.RateLimits.Config.NONE : rateLimits;
        adminKeys = adminKeys == null ? List.of() : List.copyOf(adminKeys);
        shutdownGrace = shutdownGrace == null ? DEFAULT_SHUTDOWN_GRACE : shutdownGrace;
        if (shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdown_grace must be 0 or more seconds, was " + shutdownGrace.toSeconds());
        }
        apiKeys = List.copyOf(apiKeys);
        trustedProxies = List.copyOf(trustedProxies);
        if (!allowRemote && !loopback(host)) {
            throw new IllegalArgumentException("binding to " + host + " exposes the server beyond this machine; "
                    + "pass --allow-remote (and an API key) to do that");
        }
        if (allowRemote && !loopback(host) && apiKeys.isEmpty() && adminKeys.isEmpty()) {
            throw new IllegalArgumentException("a server reachable from other machines needs an API key "
                    + "(--api-key or CORRAL_API_KEYS)");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idle_timeout must be positive, was " + idleTimeout.toSeconds() + " s");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0-65535, was " + port);
        }
        if (maxInputTokens <= 0) {
            throw new IllegalArgumentException("max_input_tokens must be positive, was " + maxInputTokens);
        }
        TrustedProxies.of(trustedProxies); // a bad entry fails here, naming it
    }

    public ServerConfig(String host, int port, boolean allowRemote, List<String> apiKeys, long maxBodyBytes,
                        int maxQueued, boolean logContent, Duration idleTimeout) {
        this(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout, List.of(),
                DEFAULT_MAX_INPUT_TOKENS, null, null, null, null);
    }

    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", DEFAULT_PORT, false, List.of(), 8L << 20, 32, false, DEFAULT_IDLE_TIMEOUT);
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    public ServerConfig withApiKeys(List<String> keys) {
        return new ServerConfig(host, port, allowRemote, keys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    /** The debug switch: log prompts and answers (keys redacted). */
    public ServerConfig withContentLogging(boolean on) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, on, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    public ServerConfig withLimits(long bodyBytes, int queued) {
        return new ServerConfig(host, port, allowRemote, apiKeys, bodyBytes, queued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    public ServerConfig withIdleTimeout(Duration idle) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idle,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    public ServerConfig withTrustedProxies(List<String> proxies) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                proxies, maxInputTokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    public ServerConfig withMaxInputTokens(long tokens) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, tokens, tls, rateLimits, adminKeys, shutdownGrace);
    }

    /** Serves HTTPS with this certificate and key (null: plain HTTP). */
    public ServerConfig withTls(Tls t) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, t, rateLimits, adminKeys, shutdownGrace);
    }

    /** How long running requests may finish when the server stops (0: their streams end at once). */
    public ServerConfig withShutdownGrace(Duration grace) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, adminKeys, grace);
    }

    /** Keys that may use admin routes (and the API); none: every key may. */
    public ServerConfig withAdminKeys(List<String> keys) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, rateLimits, keys, shutdownGrace);
    }

    /** Per key limits on requests and tokens a minute ({@code RateLimits.Config.NONE}: none). */
    public ServerConfig withRateLimits(io.corral.server.http.RateLimits.Config limits) {
        return new ServerConfig(host, port, allowRemote, apiKeys, maxBodyBytes, maxQueued, logContent, idleTimeout,
                trustedProxies, maxInputTokens, tls, limits, adminKeys, shutdownGrace);
    }

    static boolean loopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
    }
}

package io.corral.remote;

import io.corral.api.InvalidRequestException;

import java.net.URI;
import java.time.Duration;

/**
 * One remote engine host.
 *
 * @param baseUrl           the OpenAI-style base, ending in {@code /v1}
 * @param apiKey            sent as a bearer token; null for none
 * @param connectTimeout    to open a connection
 * @param firstTokenTimeout from the request to the response headers (engines answer them when they start)
 * @param idleTimeout       the longest silence inside a stream
 * @param passthrough       model ids nobody lists are sent to this host as they are (gateway use)
 * @param caFile            an {@code https} host's certificate is trusted when this CA (PEM) signed it, besides the
 *                          platform's CAs; null for the platform's only
 */
public record RemoteConfig(String id, Preset preset, String baseUrl, String apiKey, int priority,
                           Duration connectTimeout, Duration firstTokenTimeout, Duration idleTimeout,
                           boolean passthrough, java.nio.file.Path caFile) {

    public RemoteConfig {
        if (baseUrl == null || baseUrl.isBlank()) {
            baseUrl = preset.defaultBaseUrl;
        }
        baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        try {
            URI u = URI.create(baseUrl);
            if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("base_url", "base_url must be an http(s) URL, was '" + baseUrl + "'");
        }
        if (apiKey != null && apiKey.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new InvalidRequestException("api_key", "api_key must not contain control characters (a line break?)");
        }
        if (caFile != null && !java.nio.file.Files.isReadable(caFile)) {
            throw new InvalidRequestException("tls_verify", "tls_verify names " + caFile + ", which cannot be read");
        }
        if (id == null || id.isBlank()) {
            URI u = URI.create(baseUrl);
            id = preset.name().toLowerCase() + "@" + u.getHost() + ":" + (u.getPort() < 0 ? (u.getScheme().equals("https") ? 443 : 80) : u.getPort());
        }
    }

    public static RemoteConfig of(Preset preset, String baseUrl) {
        return new RemoteConfig(null, preset, baseUrl, null, 0, Duration.ofSeconds(2), Duration.ofSeconds(60),
                Duration.ofSeconds(30), false, null);
    }

    public RemoteConfig withApiKey(String key) {
        return new RemoteConfig(id, preset, baseUrl, key, priority, connectTimeout, firstTokenTimeout, idleTimeout, passthrough, caFile);
    }

    public RemoteConfig withPriority(int p) {
        return new RemoteConfig(id, preset, baseUrl, apiKey, p, connectTimeout, firstTokenTimeout, idleTimeout, passthrough, caFile);
    }

    public RemoteConfig withTimeouts(Duration connect, Duration firstToken, Duration idle) {
        return new RemoteConfig(id, preset, baseUrl, apiKey, priority, connect, firstToken, idle, passthrough, caFile);
    }

    /** Trusts {@code https} certificates this CA (a PEM file) signed, besides the platform's. */
    public RemoteConfig withCaFile(java.nio.file.Path ca) {
        return new RemoteConfig(id, preset, baseUrl, apiKey, priority, connectTimeout, firstTokenTimeout, idleTimeout,
                passthrough, ca);
    }
}

package io.corral.server.http;

import io.corral.spi.Span;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.Map;

/**
 * One HTTP request as the pipeline sees it: method, path, headers and the whole body (bounded by the
 * server's limit), stamped with an id, the client's address and when it began. Handlers record what the
 * access log, metrics and trace report about it ({@link #model}, {@link #tokens}).
 */
public final class Request {

    private final String method;
    private final String path;
    private final String query;
    private final HttpHeaders headers;
    private final byte[] body;
    private final long startNanos = System.nanoTime();
    private String id;
    private String client;
    private String route;
    private Map<String, String> params = Map.of();
    private volatile String model;
    private volatile long promptTokens = -1;
    private volatile long completionTokens = -1;
    private volatile long firstTokenNanos;
    private Span span = Span.NOOP;
    private String tenant;

    public Request(String method, String uri, HttpHeaders headers, byte[] body) {
        this.method = method;
        int q = uri.indexOf('?');
        this.path = q < 0 ? uri : uri.substring(0, q);
        this.query = q < 0 ? "" : uri.substring(q + 1);
        this.headers = headers;
        this.body = body;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    /** A query parameter's first value, decoded, or null ({@code ?limit=10&after=file-1}). */
    public String query(String name) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** Whose request it is: the tenant its API key stands for, or null when the server has no keys (all shared). */
    private java.util.Map<String, String> rateLimitHeaders = java.util.Map.of();

    /** The {@code x-ratelimit-*} headers this request's answer carries (none without limits). */
    public java.util.Map<String, String> rateLimitHeaders() {
        return rateLimitHeaders;
    }

    void rateLimitHeaders(java.util.Map<String, String> h) {
        rateLimitHeaders = h;
    }

    public String tenant() {
        return tenant;
    }

    void tenant(String t) {
        tenant = t;
    }

    /** A header's first value, or null. */
    public String header(CharSequence name) {
        return headers.get(name);
    }

    public byte[] body() {
        return body;
    }

    /** The request id, also sent back as {@code X-Request-Id}. */
    public String id() {
        return id;
    }

    /** The client's address: the peer, or what a trusted proxy says in {@code X-Forwarded-For}. */
    public String client() {
        return client;
    }

    /** The route pattern that matched ({@code /v1/models/{id}}), for metrics; null when none did. */
    public String route() {
        return route;
    }

    /** A path parameter of the route ({@code id} of {@code /v1/models/{id}}). */
    public String param(String name) {
        return params.get(name);
    }

    public long startNanos() {
        return startNanos;
    }

    public String model() {
        return model;
    }

    public void model(String model) {
        this.model = model;
    }

    /** Token counts, for the access log, metrics and the trace (-1 when not known). */
    public void tokens(long prompt, long completion) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
    }

    public long promptTokens() {
        return promptTokens;
    }

    public long completionTokens() {
        return completionTokens;
    }

    /** Marks the first token out (time to first token), once. */
    public void firstToken() {
        if (firstTokenNanos == 0) {
            firstTokenNanos = System.nanoTime();
        }
    }

    /** When the first token went out, or 0. */
    public long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** This request's span: every span of its steps (attempts, generation, later tools and shields) is inside it. */
    public Span span() {
        return span;
    }

    void span(Span span) {
        this.span = span;
    }

    void stamp(String id, String client) {
        this.id = id;
        this.client = client;
    }

    void matched(String route, Map<String, String> params) {
        this.route = route;
        this.params = params;
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.api.ChatResult;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** What every handler needs: bounded body reading, JSON responses, request ids, the access log. */
final class Http {

    private static final System.Logger ACCESS = System.getLogger("corral.access");
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() % 100_000 * 1000);

    /** What the filter stamps on each request: its id and when it began. */
    private record Stamp(String id, long startNanos) {
    }

    private static final java.util.regex.Pattern SECRETS = java.util.regex.Pattern.compile(
            "(?i)(bearer\\s+)?\\b(sk|pk|key|api[_-]?key)[-_][A-Za-z0-9_\\-]{8,}");

    private static final io.helidon.http.HeaderName REQUEST_ID_HEADER = HeaderNames.create("X-Request-Id");
    private static final io.helidon.http.HeaderName RUNNER = HeaderNames.create("X-Corral-Runner");
    private static final io.helidon.http.HeaderName ATTEMPTS = HeaderNames.create("X-Corral-Attempts");

    private final long maxBodyBytes;
    private final boolean logContent;
    private final List<String> apiKeys;

    Http(long maxBodyBytes, boolean logContent, List<String> apiKeys) {
        this.maxBodyBytes = maxBodyBytes;
        this.logContent = logContent;
        this.apiKeys = apiKeys;
    }

    /** With the debug switch on, logs what was asked and answered, with API keys and key-like strings redacted. */
    void logContent(ServerRequest req, JsonNode body, String answer) {
        if (logContent) {
            ACCESS.log(System.Logger.Level.INFO, "%s content: request=%s answer=%s".formatted(requestId(req),
                    redact(body.toString()), redact(Json.text(answer))));
        }
    }

    String redact(String text) {
        for (String key : apiKeys) {
            text = text.replace(key, "[redacted]");
        }
        return SECRETS.matcher(text).replaceAll("[redacted]");
    }

    /** Stamps the request with an id and a start time (called by the filter). */
    static void begin(ServerRequest req, ServerResponse res) {
        String id = newId();
        req.context().register(new Stamp(id, System.nanoTime()));
        res.header(REQUEST_ID_HEADER, id);
    }

    /** A new request id (short, unique in this process). */
    static String newId() {
        return Long.toString(IDS.incrementAndGet(), 36);
    }

    /** Which runner answered and after how many tries (the result's metrics, for HTTP clients). */
    static void servedBy(ServerResponse res, String runner, int attempts) {
        res.header(RUNNER, runner);
        res.header(ATTEMPTS, Integer.toString(attempts));
    }

    static String requestId(ServerRequest req) {
        return req.context().get(Stamp.class).map(Stamp::id).orElse("0");
    }

    /** The request body as JSON; over the limit is 413, bad JSON is 400. */
    JsonNode body(ServerRequest req) throws IOException {
        return Json.parse(bytes(req));
    }

    /** The request body; over the limit is 413. */
    byte[] bytes(ServerRequest req) throws IOException {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > maxBodyBytes) {
            throw ApiException.tooLarge(maxBodyBytes);
        }
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            // a declared length is read exactly (no extra read to find the end)
            bytes = in.readNBytes((int) (declared >= 0 ? declared : Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1)));
        }
        if (bytes.length > maxBodyBytes) {
            throw ApiException.tooLarge(maxBodyBytes);
        }
        return bytes;
    }

    void json(ServerResponse res, Status status, Object body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Json.bytes(body));
    }

    boolean logsContent() {
        return logContent;
    }

    /** One access-log line: never the prompt or the answer. */
    void log(ServerRequest req, int status, String model, ChatResult r) {
        if (!ACCESS.isLoggable(System.Logger.Level.INFO)) {
            return;
        }
        long start = req.context().get(Stamp.class).map(Stamp::startNanos).orElse(System.nanoTime());
        log(requestId(req), req.prologue().method().text(), req.path().path(), status, model,
                r == null ? null : r.usage().promptTokens() + "+" + r.usage().completionTokens(), start);
    }

    /** One access-log line from its parts ({@code tokens} null when unknown). */
    static void log(String id, String method, String path, int status, String model, String tokens, long startNanos) {
        if (!ACCESS.isLoggable(System.Logger.Level.INFO)) {
            return;
        }
        long tenths = (System.nanoTime() - startNanos) / 100_000;
        ACCESS.log(System.Logger.Level.INFO, new StringBuilder(96).append(id).append(' ')
                .append(method).append(' ').append(path).append(' ').append(status)
                .append(" model=").append(model == null ? "-" : model)
                .append(" tokens=").append(tokens == null ? "-" : tokens)
                .append(' ').append(tenths / 10).append('.').append(tenths % 10).append("ms").toString());
    }
}

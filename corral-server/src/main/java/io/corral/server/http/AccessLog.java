package io.corral.server.http;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One line per request, never the prompt or the answer: id, client, method, path, status, model (and, for an
 * in-process model, its device and layers offloaded), tokens, time. With the debug switch on, a second line carries the request and answer, with API keys and
 * key-like strings redacted.
 */
public final class AccessLog {

    private static final System.Logger ACCESS = System.getLogger("corral.access");
    private static final Pattern SECRETS = Pattern.compile("(?i)(bearer\\s+)?\\b(sk|pk|key|api[_-]?key)[-_][A-Za-z0-9_\\-]{8,}");

    private final boolean logContent;
    private final List<String> apiKeys;
    private final java.util.function.Function<String, String> placement;

    public AccessLog(boolean logContent, List<String> apiKeys) {
        this(logContent, apiKeys, model -> null);
    }

    /** With {@code placement}: a model's {@code device=... gpu_layers=n/N}, or null for none (a remote model). */
    public AccessLog(boolean logContent, List<String> apiKeys, java.util.function.Function<String, String> placement) {
        this.logContent = logContent;
        this.apiKeys = List.copyOf(apiKeys);
        this.placement = placement;
    }

    /**
     * With the debug switch on, logs what was asked and answered, keys redacted, and puts the same on the
     * request's span ({@code gen_ai.input.messages}, {@code gen_ai.output.messages}); off, neither ever
     * carries content.
     */
    public void content(Request req, Object body, String answer) {
        if (logContent) {
            String asked = redact(String.valueOf(body));
            String answered = redact(Json.text(answer));
            ACCESS.log(System.Logger.Level.INFO, "%s content: request=%s answer=%s".formatted(req.id(), asked, answered));
            req.span().set("gen_ai.input.messages", asked).set("gen_ai.output.messages", answered);
        }
    }

    String redact(String text) {
        for (String key : apiKeys) {
            text = text.replace(key, "[redacted]");
        }
        return SECRETS.matcher(text).replaceAll("[redacted]");
    }

    /** The line for a request that has been answered with {@code status}. */
    void log(Request req, int status) {
        if (!ACCESS.isLoggable(System.Logger.Level.INFO)) {
            return;
        }
        long tenths = (System.nanoTime() - req.startNanos()) / 100_000;
        StringBuilder line = new StringBuilder(112).append(req.id()).append(' ')
                .append(req.method()).append(' ').append(req.path()).append(' ').append(status)
                .append(" model=").append(req.model() == null ? "-" : req.model());
        String where = req.model() == null ? null : placement.apply(req.model());
        if (where != null) {
            line.append(' ').append(where);
        }
        line.append(" tokens=");
        if (req.promptTokens() < 0) {
            line.append('-');
        } else {
            line.append(req.promptTokens()).append('+').append(req.completionTokens());
        }
        ACCESS.log(System.Logger.Level.INFO, line.append(' ').append(tenths / 10).append('.').append(tenths % 10).append("ms")
                .append(" client=").append(req.client()).toString());
    }
}

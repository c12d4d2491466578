package io.corral.server.http;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;

/** A request's {@code keep_alive}, in Ollama's spelling: what Ollama's routes and the admin load route read. */
public final class KeepAlive {

    private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private KeepAlive() {
    }

    /**
     * Ollama's {@code keep_alive}: a duration ({@code "5m"}, {@code "1h30m"}, {@code "10s"}), a number of seconds, a
     * negative one for ever, 0 to unload after the request; null when the request has none.
     */
    public static Duration of(JsonNode body) {
        JsonNode k = body.get("keep_alive");
        if (k == null || k.isNull()) {
            return null;
        }
        if (k.isNumber()) {
            return Duration.ofMillis(Math.round(k.asDouble() * 1000));
        }
        String text = k.asText("").strip();
        if (text.matches("-?\\d+(\\.\\d+)?")) {
            return Duration.ofMillis(Math.round(Double.parseDouble(text) * 1000));
        }
        java.util.regex.Matcher m = PART.matcher(text);
        boolean negative = text.startsWith("-");
        int at = negative ? 1 : 0;
        double nanos = 0;
        while (at < text.length() && m.find(at) && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (text.isEmpty() || at != text.length() || at == (negative ? 1 : 0)) {
            throw ApiException.badRequest("keep_alive", "keep_alive must be a duration such as \"5m\" or \"1h30m\", a number"
                    + " of seconds, or negative to keep the model loaded; was " + k);
        }
        return Duration.ofNanos((long) (negative ? -nanos : nanos));
    }
}

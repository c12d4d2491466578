package io.corral.telemetry;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where traces go. Sinks, as Llama Stack's telemetry provider names them: {@code otel_trace} (OTLP over
 * HTTP to {@code otlpEndpoint}) and {@code sqlite} (the built-in store that the query routes read); none
 * means tracing is off.
 *
 * @param otlpEndpoint the collector's base URL ({@code http://host:4318}) or its traces URL ({@code .../v1/traces})
 * @param otlpHeaders  sent with every export (a collector's API key)
 * @param sqlitePath   the trace store's file
 * @param maxSpans     the store keeps at most this many spans, the oldest dropped first
 * @param retention    and none older than this
 * @param sampleRatio  the share of new traces recorded (1: all); a request that continues a caller's trace
 *                     follows the caller's choice
 */
public record TelemetryConfig(String serviceName, Set<String> sinks, URI otlpEndpoint, Map<String, String> otlpHeaders,
                              Duration otlpTimeout, Path sqlitePath, int maxSpans, Duration retention, double sampleRatio) {

    public static final Set<String> SINKS = Set.of("otel_trace", "sqlite", "console");

    public TelemetryConfig {
        sinks = Set.copyOf(sinks);
        otlpHeaders = Map.copyOf(otlpHeaders);
        for (String s : sinks) {
            if (!SINKS.contains(s)) {
                throw new IllegalArgumentException("unknown telemetry sink '" + s + "' (expected one of " + new java.util.TreeSet<>(SINKS) + ")");
            }
        }
        if (sinks.contains("otel_trace") && otlpEndpoint == null) {
            throw new IllegalArgumentException("the otel_trace sink needs otel_exporter_otlp_endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT)");
        }
        if (maxSpans <= 0) {
            throw new IllegalArgumentException("max_spans must be positive, was " + maxSpans);
        }
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("the retention must be positive, was " + retention);
        }
        if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
            throw new IllegalArgumentException("sample_ratio must be in [0, 1], was " + sampleRatio);
        }
    }

    /** The same, with other sinks. */
    public TelemetryConfig withSinks(Set<String> s) {
        return new TelemetryConfig(serviceName, s, otlpEndpoint, otlpHeaders, otlpTimeout, sqlitePath, maxSpans, retention, sampleRatio);
    }

    /** Tracing off. */
    public static TelemetryConfig off() {
        return new TelemetryConfig("corral", Set.of(), null, Map.of(), Duration.ofSeconds(10), null, 100_000, Duration.ofDays(7), 1);
    }

    /** The OTLP traces URL: a base URL gets {@code /v1/traces}, as the OpenTelemetry specification says. */
    public URI tracesUrl() {
        String s = otlpEndpoint.toString();
        return s.endsWith("/v1/traces") ? otlpEndpoint : URI.create(s.replaceAll("/+$", "") + "/v1/traces");
    }

    public boolean enabled() {
        return !sinks.isEmpty();
    }

    /**
     * From the standard OpenTelemetry variables: {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or
     * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) turns on the {@code otel_trace} sink;
     * {@code OTEL_EXPORTER_OTLP_HEADERS}, {@code OTEL_EXPORTER_OTLP_TIMEOUT} (ms), {@code OTEL_SERVICE_NAME},
     * {@code OTEL_TRACES_SAMPLER} ({@code always_on}, {@code traceidratio}, {@code parentbased_traceidratio}, ...)
     * with {@code OTEL_TRACES_SAMPLER_ARG}; {@code OTEL_SDK_DISABLED=true} turns exporting off.
     */
    public static TelemetryConfig fromEnvironment(Map<String, String> env, Path defaultStore) {
        Set<String> sinks = new LinkedHashSet<>();
        URI endpoint = null;
        String traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        String base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (traces != null && !traces.isBlank()) {
            endpoint = url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces);
        } else if (base != null && !base.isBlank()) {
            endpoint = url("OTEL_EXPORTER_OTLP_ENDPOINT", base);
        }
        if (endpoint != null && !"true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", ""))) {
            sinks.add("otel_trace");
        }
        Map<String, String> headers = headers(env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                env.getOrDefault("OTEL_EXPORTER_OTLP_HEADERS", "")));
        Duration timeout = Duration.ofMillis((long) number("OTEL_EXPORTER_OTLP_TIMEOUT", env.getOrDefault("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")));
        String service = env.getOrDefault("OTEL_SERVICE_NAME", "corral");
        String sampler = env.getOrDefault("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip();
        double ratio = switch (sampler) {
            case "always_off", "parentbased_always_off" -> 0;
            case "traceidratio", "parentbased_traceidratio" -> number("OTEL_TRACES_SAMPLER_ARG", env.getOrDefault("OTEL_TRACES_SAMPLER_ARG", "1"));
            default -> 1;
        };
        return new TelemetryConfig(service.isBlank() ? "corral" : service, sinks, endpoint, headers, timeout, defaultStore,
                100_000, Duration.ofDays(7), ratio);
    }

    /**
     * What {@code serve} records with nothing configured: the built-in store at {@code store}, and OTLP when the
     * {@code OTEL_*} variables say so; {@code OTEL_SDK_DISABLED=true} turns both off.
     */
    public static TelemetryConfig defaults(Map<String, String> env, Path store) {
        TelemetryConfig t = fromEnvironment(env, store);
        if ("true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", "").strip())) {
            return t;
        }
        Set<String> sinks = new LinkedHashSet<>(t.sinks());
        sinks.add("sqlite");
        return t.withSinks(sinks);
    }

    /**
     * This configuration with a distribution config's telemetry provider over it (Llama Stack's keys:
     * {@code sinks} as a list or comma-separated, {@code otel_exporter_otlp_endpoint}, {@code service_name},
     * {@code sqlite_db_path}; and Corral's {@code max_spans}, {@code retention_days}).
     */
    public TelemetryConfig with(Map<String, String> config) {
        Set<String> s = sinks;
        if (config.containsKey("sinks")) {
            s = new LinkedHashSet<>();
            for (String part : config.get("sinks").split(",")) {
                String name = part.strip();
                if (!name.isEmpty()) {
                    s.add(name.equals("otel") ? "otel_trace" : name);
                }
            }
        }
        String ep = config.getOrDefault("otel_exporter_otlp_endpoint", config.get("otel_trace_endpoint"));
        URI endpoint = ep == null || ep.isBlank() ? otlpEndpoint : url("otel_exporter_otlp_endpoint", ep);
        String service = config.getOrDefault("service_name", serviceName).strip();
        String db = config.get("sqlite_db_path");
        Path path = db == null || db.isBlank() ? sqlitePath : Path.of(db.strip().replaceFirst("^~", System.getProperty("user.home")));
        int max = config.containsKey("max_spans") ? (int) number("max_spans", config.get("max_spans")) : maxSpans;
        Duration keep = retention;
        if (config.containsKey("retention_days")) {
            double days = number("retention_days", config.get("retention_days"));
            long nanos = (long) (days * 86_400e9); // 36,500 days fit a long's nanoseconds
            if (!(days <= 36_500 && nanos > 0)) {
                throw new IllegalArgumentException("retention_days must be more than 0 and at most 36500, was " + config.get("retention_days"));
            }
            keep = Duration.ofNanos(nanos);
        }
        double ratio = config.containsKey("sample_ratio") ? number("sample_ratio", config.get("sample_ratio")) : sampleRatio;
        return new TelemetryConfig(service.isEmpty() || service.equals("\u200B") ? serviceName : service, s, endpoint, otlpHeaders,
                otlpTimeout, path, max, keep, ratio);
    }

    private static double number(String name, String value) {
        try {
            return Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, was '" + value + "'");
        }
    }

    private static URI url(String name, String value) {
        try {
            URI u = new URI(value.strip());
            if (u.getScheme() == null || !u.getScheme().startsWith("http") || u.getHost() == null) {
                throw new URISyntaxException(value, "not an http(s) URL");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(name + " must be an http(s) URL such as http://127.0.0.1:4318, was '" + value + "'");
        }
    }

    /** {@code key=value,key2=value2}, values percent-decoded, as the OpenTelemetry variables write headers. */
    static Map<String, String> headers(String spec) {
        Map<String, String> h = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                h.put(part.substring(0, eq).strip(), java.net.URLDecoder.decode(part.substring(eq + 1).strip(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return h;
    }
}

package io.corral.telemetry;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code inline::meta-reference} (Llama Stack's name) and {@code inline::otel}: where traces go, over what the
 * {@code OTEL_*} variables and the embedded default (the SQLite store) say. Makes a {@link TelemetryConfig},
 * which {@link Telemetry#start} runs.
 */
public final class TelemetryProviderFactory extends ProviderFactory.Base<TelemetryProviderFactory.Config, TelemetryConfig> {

    /**
     * Its {@code config:} section, Llama Stack's keys and Corral's.
     *
     * @param sinks                    {@code sqlite}, {@code otel_trace}, {@code console} (a list, or comma-separated)
     * @param otelExporterOtlpEndpoint the OTLP/HTTP collector ({@code http://127.0.0.1:4318})
     * @param otelTraceEndpoint        the same, as older Llama Stack configs call it
     * @param serviceName              the traces' {@code service.name}
     * @param sqliteDbPath             the trace store's file ({@code ~} is the home directory)
     * @param maxSpans                 the store keeps at most this many spans
     * @param retentionDays            and none older
     * @param sampleRatio              the share of new traces recorded
     */
    public record Config(List<String> sinks, String otelExporterOtlpEndpoint, String otelTraceEndpoint, String serviceName,
                         String sqliteDbPath, Integer maxSpans, Integer retentionDays, Double sampleRatio) {

        Map<String, String> asMap() {
            Map<String, String> m = new LinkedHashMap<>();
            put(m, "sinks", sinks == null ? null : String.join(",", sinks));
            put(m, "otel_exporter_otlp_endpoint", otelExporterOtlpEndpoint);
            put(m, "otel_trace_endpoint", otelTraceEndpoint);
            put(m, "service_name", serviceName);
            put(m, "sqlite_db_path", sqliteDbPath);
            put(m, "max_spans", maxSpans);
            put(m, "retention_days", retentionDays);
            put(m, "sample_ratio", sampleRatio);
            return m;
        }

        private static void put(Map<String, String> m, String key, Object value) {
            if (value != null && !value.toString().isBlank()) {
                m.put(key, value.toString());
            }
        }
    }

    public TelemetryProviderFactory() {
        super(Api.TELEMETRY, "inline::meta-reference", Config.class);
    }

    @Override
    public boolean supports(String type) {
        return types().contains(type);
    }

    @Override
    public List<String> types() {
        return List.of("inline::meta-reference", "inline::otel");
    }

    @Override
    public TelemetryConfig create(String id, String type, Config config, Context context) {
        return TelemetryConfig.defaults(context.environment(), context.cacheDir().resolve("traces.db")).with(config.asMap());
    }
}

package io.corral.telemetry;

import io.corral.spi.Span;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Corral's traces: the OpenTelemetry SDK, exporting over OTLP/HTTP and into the built-in
 * {@link TraceStore}, as the {@link TelemetryConfig} says. The server starts a span per request with
 * {@link #serverSpan}; everything that runs for the request makes children of it.
 */
public final class Telemetry implements AutoCloseable {

    private static final TextMapGetter<Map<String, String>> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final TraceStore store;

    private Telemetry(SdkTracerProvider provider, TraceStore store) {
        this.provider = provider;
        this.tracer = provider == null ? null : provider.get("io.corral", "0.1.0");
        this.store = store;
    }

    /** Tracing off: every span is {@link Span#NOOP}. */
    public static Telemetry off() {
        return new Telemetry(null, null);
    }

    public static Telemetry start(TelemetryConfig config) {
        if (!config.enabled()) {
            return off();
        }
        SdkTracerProviderBuilder b = SdkTracerProvider.builder().setIdGenerator(new TimeOrderedIds(System::currentTimeMillis))
                .setSampler(Sampler.parentBased(config.sampleRatio() >= 1 ? Sampler.alwaysOn() : Sampler.traceIdRatioBased(config.sampleRatio())))
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), config.serviceName()))));
        if (config.sinks().contains("otel_trace")) {
            OtlpHttpSpanExporterBuilder e = OtlpHttpSpanExporter.builder().setEndpoint(config.tracesUrl().toString())
                    .setTimeout(config.otlpTimeout());
            config.otlpHeaders().forEach(e::addHeader);
            b.addSpanProcessor(BatchSpanProcessor.builder(e.build()).setScheduleDelay(Duration.ofMillis(500)).build());
        }
        TraceStore store = null;
        if (config.sinks().contains("sqlite")) {
            store = TraceStore.open(config.sqlitePath(), config.maxSpans(), config.retention());
            b.addSpanProcessor(new StoreProcessor(store));
        }
        if (config.sinks().contains("console")) {
            b.addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(new ConsoleSpans()));
        }
        return new Telemetry(b.build(), store);
    }

    public boolean enabled() {
        return provider != null;
    }

    /**
     * A request's span: a child of the caller's trace when {@code headers} carry a W3C {@code traceparent},
     * else a new trace; each {@code baggage} entry becomes an attribute, so a client finds the trace by it
     * ({@code baggage: run_id=r1}).
     *
     * @param headers the request's headers, names in lower case
     */
    public Span serverSpan(String name, Map<String, String> headers, Map<String, String> attributes) {
        if (provider == null) {
            return Span.NOOP;
        }
        Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
        SpanBuilder sb = tracer.spanBuilder(name).setSpanKind(SpanKind.SERVER).setParent(parent);
        attributes.forEach(sb::setAttribute);
        Baggage baggage = Baggage.fromContext(W3CBaggagePropagator.getInstance().extract(Context.root(), headers, HEADERS));
        baggage.forEach((k, entry) -> sb.setAttribute(k, entry.getValue()));
        io.opentelemetry.api.trace.Span span = sb.startSpan();
        // a request the sampler left out records nothing, so nothing under it builds spans either
        return span.isRecording() ? new OtelSpan(tracer, span) : Span.NOOP;
    }

    /** The built-in store, or null when the {@code sqlite} sink is off. */
    public TraceStore store() {
        return store;
    }

    /** Exports every span ended before this call (a query then sees them). */
    public void flush() {
        if (provider != null) {
            provider.forceFlush().join(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.shutdown().join(10, TimeUnit.SECONDS);
        }
        if (store != null) {
            store.close();
        }
    }
}

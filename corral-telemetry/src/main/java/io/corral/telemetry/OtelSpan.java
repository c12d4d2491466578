package io.corral.telemetry;

import io.corral.spi.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

/** A {@link Span} over an OpenTelemetry span; its children are made by the same tracer. */
final class OtelSpan implements Span {

    private final Tracer tracer;
    final io.opentelemetry.api.trace.Span span;

    OtelSpan(Tracer tracer, io.opentelemetry.api.trace.Span span) {
        this.tracer = tracer;
        this.span = span;
    }

    @Override
    public Span child(String name) {
        return new OtelSpan(tracer, tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL)
                .setParent(Context.root().with(span)).startSpan());
    }

    @Override
    public Span set(String key, String value) {
        if (value != null) {
            span.setAttribute(key, value);
        }
        return this;
    }

    @Override
    public Span set(String key, long value) {
        span.setAttribute(key, value);
        return this;
    }

    @Override
    public Span set(String key, double value) {
        span.setAttribute(key, value);
        return this;
    }

    @Override
    public Span set(String key, boolean value) {
        span.setAttribute(key, value);
        return this;
    }

    @Override
    public Span fail(Throwable error) {
        // the type and message only: an exception's stack says nothing a trace reader needs
        span.setStatus(StatusCode.ERROR, error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage());
        span.setAttribute("error.type", error.getClass().getSimpleName());
        return this;
    }

    @Override
    public void end() {
        span.end();
    }
}

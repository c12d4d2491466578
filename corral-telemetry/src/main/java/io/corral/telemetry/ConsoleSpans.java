package io.corral.telemetry;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.util.Collection;

/** The {@code console} sink: one log line per ended span (name, ids, duration, status). */
final class ConsoleSpans implements SpanExporter {

    private static final System.Logger LOG = System.getLogger("corral.trace");

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        for (SpanData s : spans) {
            LOG.log(System.Logger.Level.INFO, "span %s trace=%s id=%s parent=%s %.1fms %s".formatted(s.getName(), s.getTraceId(),
                    s.getSpanId(), s.getParentSpanId(), (s.getEndEpochNanos() - s.getStartEpochNanos()) / 1e6,
                    s.getStatus().getStatusCode()));
        }
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }
}

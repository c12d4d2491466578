package io.corral.server.telemetry;

import io.corral.server.http.Pipeline;
import io.corral.server.http.Request;
import io.corral.spi.Span;
import io.corral.telemetry.Telemetry;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Starts each request's span ({@code POST /v1/chat/completions}, kind server) from its W3C
 * {@code traceparent} and {@code baggage}, with the HTTP semantic-convention attributes. Never the
 * {@code Authorization} header or the body.
 */
public final class Tracing implements Pipeline.Tracer {

    private final Telemetry telemetry;

    public Tracing(Telemetry telemetry) {
        this.telemetry = telemetry;
    }

    @Override
    public Span start(Request r) {
        if (!telemetry.enabled()) {
            return Span.NOOP;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : new String[]{"traceparent", "tracestate", "baggage"}) {
            String v = r.header(name);
            if (v != null) {
                headers.put(name, v);
            }
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("http.request.method", r.method());
        attributes.put("url.path", r.path());
        attributes.put("client.address", r.client());
        attributes.put("corral.request_id", r.id());
        // the route when one matched (a bounded set of names), else the method alone, as the HTTP conventions say
        return telemetry.serverSpan(r.route() != null ? r.method() + " " + r.route() : r.method(), headers, attributes);
    }
}

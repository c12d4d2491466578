package io.corral.spi;

/**
 * One step of a request as a trace shows it (an HTTP request, a routing attempt, a generation, later a
 * retrieval, a tool call, a shield). Made by whoever runs the step as a child of the step that called it
 * ({@link Spans#current()}, or a parent held explicitly); attribute names follow OpenTelemetry's semantic
 * conventions ({@code gen_ai.usage.input_tokens}). A span never carries prompt or answer text, or a key.
 * Implementations must be safe to call from any thread and must never throw.
 */
public interface Span {

    /** Records nothing: what code sees when tracing is off. */
    Span NOOP = new Span() {
        public Span child(String name) { return this; }
        public Span set(String key, String value) { return this; }
        public Span set(String key, long value) { return this; }
        public Span set(String key, double value) { return this; }
        public Span set(String key, boolean value) { return this; }
        public Span fail(Throwable error) { return this; }
        public void end() { }
    };

    /** A span for a step of this one, starting now. */
    Span child(String name);

    Span set(String key, String value);

    Span set(String key, long value);

    Span set(String key, double value);

    Span set(String key, boolean value);

    /** Marks the step failed, with the error's type and message (never its stack of prompt text). */
    Span fail(Throwable error);

    /** Ends the step now; later calls do nothing. */
    void end();
}

package io.corral.spi;

/**
 * The span of the step running on this thread, so that code several calls down (a router's attempts, an
 * engine's generation) makes its spans children of the request's without passing it along.
 */
public final class Spans {

    private static final ScopedValue<Span> CURRENT = ScopedValue.newInstance();

    private Spans() {
    }

    /** The current step's span, or {@link Span#NOOP}. */
    public static Span current() {
        return CURRENT.isBound() ? CURRENT.get() : Span.NOOP;
    }

    /** Runs {@code op} with {@code span} as the current span. */
    public static <R, X extends Throwable> R within(Span span, ScopedValue.CallableOp<R, X> op) throws X {
        return ScopedValue.where(CURRENT, span).call(op);
    }
}

package io.corral.routing;

/** A source of time in nanoseconds; injected so cool-downs are tested without sleeping. */
@FunctionalInterface
public interface Ticker {

    long nanos();

    static Ticker system() {
        return System::nanoTime;
    }
}

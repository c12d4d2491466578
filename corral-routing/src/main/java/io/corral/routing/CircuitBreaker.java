package io.corral.routing;

import java.time.Duration;

/**
 * Keeps a failing runner out for a cool-down: after {@code threshold} failures in a row it opens;
 * once the cool-down has passed, one trial request goes through (half-open); its success closes the
 * breaker, its failure opens it again.
 */
public final class CircuitBreaker {

    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final long coolDownNanos;
    private final Ticker ticker;
    private int failures;
    private long openedAt;
    private State state = State.CLOSED;
    private boolean trialOut;

    public CircuitBreaker(int threshold, Duration coolDown, Ticker ticker) {
        this.threshold = threshold;
        this.coolDownNanos = coolDown.toNanos();
        this.ticker = ticker;
    }

    /** Whether a request may go to this runner now (a half-open breaker lets one through). */
    public synchronized boolean allow() {
        refresh();
        return switch (state) {
            case CLOSED -> true;
            case OPEN -> false;
            case HALF_OPEN -> {
                if (trialOut) {
                    yield false;
                }
                trialOut = true;
                yield true;
            }
        };
    }

    public synchronized void success() {
        failures = 0;
        state = State.CLOSED;
    }

    public synchronized void failure() {
        failures++;
        if (state == State.HALF_OPEN || failures >= threshold) {
            state = State.OPEN;
            openedAt = ticker.nanos();
        }
    }

    public synchronized State state() {
        refresh();
        return state;
    }

    private void refresh() {
        if (state == State.OPEN && ticker.nanos() - openedAt >= coolDownNanos) {
            state = State.HALF_OPEN;
            trialOut = false;
        }
    }
}

package io.corral.api;

import java.time.Duration;

/**
 * How a call went.
 *
 * @param model            the model that answered
 * @param provider         the provider (runner) that served it
 * @param latency          from the call to the last token
 * @param timeToFirstToken from the call to the first generated token (equal to latency if none)
 * @param tokensPerSecond  generation speed, after the first token
 * @param attempts         how many runners were tried (1 when the first one served it)
 */
public record Metrics(String model, String provider, Duration latency, Duration timeToFirstToken,
                      double tokensPerSecond, int attempts) {

    public Metrics(String model, String provider, Duration latency, Duration timeToFirstToken, double tokensPerSecond) {
        this(model, provider, latency, timeToFirstToken, tokensPerSecond, 1);
    }

    public Metrics withAttempts(int n) {
        return new Metrics(model, provider, latency, timeToFirstToken, tokensPerSecond, n);
    }
}

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
 */
public record Metrics(String model, String provider, Duration latency, Duration timeToFirstToken,
                      double tokensPerSecond) {
}

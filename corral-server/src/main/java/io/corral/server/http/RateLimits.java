package io.corral.server.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Per API key limits on requests and tokens a minute, as OpenAI applies them: each key has a bucket of requests and
 * one of tokens that refill steadily over a minute. A request is admitted while both hold something (it takes one
 * request; its tokens are taken when its usage is known, at its end), else refused with 429, {@code Retry-After} and
 * OpenAI's {@code x-ratelimit-*} headers, which every admitted answer carries too. Keys without limits of their own
 * get the defaults; a server without keys limits all its callers as one.
 */
public final class RateLimits {

    /** A key's limits; 0 for no limit on that count. */
    public record Limit(int requestsPerMinute, long tokensPerMinute) {
        public Limit {
            if (requestsPerMinute < 0 || tokensPerMinute < 0) {
                throw new IllegalArgumentException("rate limits must be 0 (none) or more, were " + requestsPerMinute
                        + " requests and " + tokensPerMinute + " tokens a minute");
            }
        }

        public boolean none() {
            return requestsPerMinute == 0 && tokensPerMinute == 0;
        }
    }

    /** The server's limits: the default of every key, and some keys' own (by the key). */
    public record Config(Limit defaults, Map<String, Limit> keys) {
        public static final Config NONE = new Config(new Limit(0, 0), Map.of());

        public Config {
            keys = Map.copyOf(keys);
        }
    }

    private static final long MINUTE = 60_000_000_000L;

    private final Limit defaults;
    private final Map<String, Limit> byTenant;
    private final LongSupplier nanos;
    private final Map<String, Buckets> buckets = new ConcurrentHashMap<>();

    /** @param tenantOf the tenant a configured key stands for ({@link ApiKeys#tenantOf}) */
    public RateLimits(Config config, java.util.function.Function<String, String> tenantOf, LongSupplier nanos) {
        this.defaults = config.defaults();
        Map<String, Limit> t = new LinkedHashMap<>();
        config.keys().forEach((key, limit) -> t.put(tenantOf.apply(key), limit));
        this.byTenant = Map.copyOf(t);
        this.nanos = nanos;
    }

    public boolean any() {
        return !defaults.none() || byTenant.values().stream().anyMatch(l -> !l.none());
    }

    private final class Buckets {
        final Limit limit;
        double requests;
        double tokens;
        long at;

        Buckets(Limit limit) {
            this.limit = limit;
            this.requests = limit.requestsPerMinute();
            this.tokens = limit.tokensPerMinute();
            this.at = nanos.getAsLong();
        }

        void refill() {
            long now = nanos.getAsLong();
            double minutes = (now - at) / (double) MINUTE;
            at = now;
            requests = Math.min(limit.requestsPerMinute(), requests + minutes * limit.requestsPerMinute());
            tokens = Math.min(limit.tokensPerMinute(), tokens + minutes * limit.tokensPerMinute());
        }

        /** Seconds until {@code have} reaches {@code need} at {@code perMinute}. */
        double secondsUntil(double have, double need, long perMinute) {
            return have >= need ? 0 : (need - have) * 60.0 / perMinute;
        }

        Map<String, String> headers() {
            Map<String, String> h = new LinkedHashMap<>();
            if (limit.requestsPerMinute() > 0) {
                h.put("x-ratelimit-limit-requests", String.valueOf(limit.requestsPerMinute()));
                h.put("x-ratelimit-remaining-requests", String.valueOf((long) Math.floor(Math.max(0, requests))));
                h.put("x-ratelimit-reset-requests", duration(secondsUntil(requests, limit.requestsPerMinute(), limit.requestsPerMinute())));
            }
            if (limit.tokensPerMinute() > 0) {
                h.put("x-ratelimit-limit-tokens", String.valueOf(limit.tokensPerMinute()));
                h.put("x-ratelimit-remaining-tokens", String.valueOf((long) Math.floor(Math.max(0, tokens))));
                h.put("x-ratelimit-reset-tokens", duration(secondsUntil(tokens, limit.tokensPerMinute(), limit.tokensPerMinute())));
            }
            return h;
        }
    }

    /**
     * Admits one request of {@code tenant} (null: a server without keys): returns the headers its answer carries, or
     * throws a 429 {@link ApiException} with them and {@code Retry-After}.
     */
    public Map<String, String> admit(String tenant) {
        String who = tenant == null ? "" : tenant;
        Limit limit = byTenant.getOrDefault(who, defaults);
        if (limit.none()) {
            return Map.of();
        }
        Buckets b = buckets.computeIfAbsent(who, k -> new Buckets(limit));
        synchronized (b) {
            b.refill();
            boolean noRequests = limit.requestsPerMinute() > 0 && b.requests < 1;
            boolean noTokens = limit.tokensPerMinute() > 0 && b.tokens <= 0;
            if (noRequests || noTokens) {
                double wait = Math.max(noRequests ? b.secondsUntil(b.requests, 1, limit.requestsPerMinute()) : 0,
                        noTokens ? b.secondsUntil(b.tokens, 1, limit.tokensPerMinute()) : 0);
                long retry = Math.max(1, (long) Math.ceil(wait));
                String what = noRequests ? "requests per min (RPM): Limit " + limit.requestsPerMinute()
                        : "tokens per min (TPM): Limit " + limit.tokensPerMinute();
                Map<String, String> h = new LinkedHashMap<>(b.headers());
                h.put("Retry-After", String.valueOf(retry));
                throw ApiException.rateLimited("Rate limit reached on " + what + ". Please try again in " + duration(wait) + ".",
                        noRequests ? "requests" : "tokens", h);
            }
            if (limit.requestsPerMinute() > 0) {
                b.requests -= 1;
            }
            return b.headers();
        }
    }

    /** Takes a finished request's tokens from its key's bucket (it may go below zero: the next requests wait). */
    public void record(String tenant, long tokens) {
        Buckets b = buckets.get(tenant == null ? "" : tenant);
        if (b == null || b.limit.tokensPerMinute() == 0 || tokens <= 0) {
            return;
        }
        synchronized (b) {
            b.refill();
            b.tokens -= tokens;
        }
    }

    /** OpenAI's spelling of a wait: {@code 1s}, {@code 6m0s}, {@code 120ms}. */
    static String duration(double seconds) {
        if (seconds <= 0) {
            return "0s";
        }
        if (seconds < 1) {
            return Math.max(1, Math.round(seconds * 1000)) + "ms";
        }
        long s = (long) Math.ceil(seconds);
        return s < 60 ? s + "s" : s / 60 + "m" + s % 60 + "s";
    }
}

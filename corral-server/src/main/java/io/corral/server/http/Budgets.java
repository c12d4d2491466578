package io.corral.server.http;

import io.corral.spi.KeyValueStore;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per API key budgets: how many requests and tokens a key may use in a calendar period (a UTC day or month), beside the
 * rates a minute of {@link RateLimits}. A key whose budget is spent is refused with OpenAI's 429
 * {@code insufficient_quota} until the next period. What each node used is kept in the state store
 * ({@code budget/<period>/<tenant>/<node>}, this node's running total, written at most every few seconds and on close),
 * so budgets outlive restarts and nodes sharing a database share them; a key's use is the sum of every node's entry,
 * read again at most every few seconds. Keys without a budget of their own get the default; 0 is no budget.
 */
public final class Budgets {

    /** A key's budget a period; 0 for none on that count. */
    public record Limit(long requests, long tokens) {
        public Limit {
            if (requests < 0 || tokens < 0) {
                throw new IllegalArgumentException("budgets must be 0 (none) or more, were " + requests + " requests and " + tokens + " tokens");
            }
        }

        boolean none() {
            return requests == 0 && tokens == 0;
        }
    }

    /** The budgets: the period ({@code day} or {@code month}), the default of every key, and some keys' own. */
    public record Config(String period, Limit defaults, Map<String, Limit> keys) {
        public static final Config NONE = new Config("month", new Limit(0, 0), Map.of());

        public Config {
            if (!period.equals("day") && !period.equals("month")) {
                throw new IllegalArgumentException("a budget's period is day or month, was '" + period + "'");
            }
            keys = Map.copyOf(keys);
        }

        boolean any() {
            return !defaults.none() || keys.values().stream().anyMatch(l -> !l.none());
        }
    }

    private static final long REREAD_NANOS = 5_000_000_000L;

    private final Config config;
    private final Map<String, Limit> byTenant;
    private final KeyValueStore kv;
    private final Clock clock;
    private final String node = Ids.next() + "-" + Long.toHexString(System.nanoTime());
    /** This node's use: tenant|period to {requests, tokens}; written to the store by {@link #flush()}. */
    private final Map<String, long[]> mine = new ConcurrentHashMap<>();
    /** Other nodes' use as last read: tenant|period to {requests, tokens, read at (nanos)}. */
    private final Map<String, long[]> others = new ConcurrentHashMap<>();

    /** @param kv where uses are kept (null: in memory only, for a server without state) */
    public Budgets(Config config, java.util.function.Function<String, String> tenantOf, KeyValueStore kv, Clock clock) {
        this.config = config;
        Map<String, Limit> t = new LinkedHashMap<>();
        config.keys().forEach((key, limit) -> t.put(tenantOf.apply(key), limit));
        this.byTenant = Map.copyOf(t);
        this.kv = kv;
        this.clock = clock;
    }

    public boolean any() {
        return config.any();
    }

    private String period() {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        return config.period().equals("day") ? today.toString() : today.toString().substring(0, 7);
    }

    private String renews() {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        return (config.period().equals("day") ? today.plusDays(1) : today.withDayOfMonth(1).plusMonths(1)) + "T00:00:00Z";
    }

    private Limit limit(String tenant) {
        return byTenant.getOrDefault(tenant == null ? "" : tenant, config.defaults());
    }

    /** Admits a request of {@code tenant} (null: a server without keys) and counts it, or throws 429 {@code insufficient_quota}. */
    public void admit(String tenant) {
        Limit limit = limit(tenant);
        if (limit.none()) {
            return;
        }
        String at = (tenant == null ? "-" : tenant) + "|" + period();
        long[] used = used(tenant, at);
        if (limit.requests() > 0 && used[0] >= limit.requests() || limit.tokens() > 0 && used[1] >= limit.tokens()) {
            String what = limit.requests() > 0 && used[0] >= limit.requests() ? limit.requests() + " requests" : limit.tokens() + " tokens";
            throw new ApiException(429, "insufficient_quota", "insufficient_quota", null, "this key's budget of " + what
                    + " a " + config.period() + " is spent; it renews at " + renews());
        }
        long[] m = mine.computeIfAbsent(at, k -> new long[2]);
        synchronized (m) {
            m[0]++;
        }
    }

    /** Counts the tokens of a request of {@code tenant} once they are known. */
    public void record(String tenant, long tokens) {
        if (limit(tenant).none() || tokens <= 0) {
            return;
        }
        String at = (tenant == null ? "-" : tenant) + "|" + period();
        long[] m = mine.computeIfAbsent(at, k -> new long[2]);
        synchronized (m) {
            m[1] += tokens;
        }
    }

    private long[] used(String tenant, String at) {
        long[] m = mine.getOrDefault(at, new long[2]);
        long[] o = kv == null ? new long[3] : others.compute(at, (k, seen) -> {
            long now = System.nanoTime();
            if (seen != null && now - seen[2] < REREAD_NANOS) {
                return seen;
            }
            long requests = 0;
            long tokens = 0;
            for (var e : kv.prefix(key(at, ""))) {
                if (!e.getKey().endsWith("/" + node)) {
                    String[] v = e.getValue().split(" ");
                    requests += Long.parseLong(v[0]);
                    tokens += Long.parseLong(v[1]);
                }
            }
            return new long[]{requests, tokens, now};
        });
        return new long[]{m[0] + o[0], m[1] + o[1]};
    }

    private static String key(String at, String node) {
        int bar = at.indexOf('|');
        return "budget/" + at.substring(bar + 1) + "/" + at.substring(0, bar) + "/" + node;
    }

    /** Writes this node's use to the state store (its running totals, so a write may be repeated). */
    public void flush() {
        if (kv == null) {
            return;
        }
        mine.forEach((at, m) -> {
            long requests;
            long tokens;
            synchronized (m) {
                requests = m[0];
                tokens = m[1];
            }
            kv.set(key(at, node), requests + " " + tokens);
        });
    }
}

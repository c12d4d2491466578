package io.corral.spi;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who does a piece of work (a file's ingestion, a background response) when several nodes share one state store: a
 * lease per piece ({@code lease/<work>} holding the node's id) taken by {@link KeyValueStore#compareAndSet}, renewed
 * while the work runs ({@link #renewAll}, every third of {@link #ttl}), given up when it ends. A node that dies stops
 * renewing, and once its leases expire another node takes the work over. Over a store only this process uses,
 * every lease is granted at once: nobody else could hold one, and a restarted process must not wait on the leases
 * of the process it replaces.
 */
public final class Leases implements AutoCloseable {

    /** How long a lease lasts unless renewed. */
    public static final Duration TTL = Duration.ofSeconds(15);

    private final KeyValueStore kv;
    private final Clock clock;
    private final Duration ttl;
    private final String node = "node-" + UUID.randomUUID();
    private final Map<String, Boolean> held = new ConcurrentHashMap<>();
    private volatile Thread keeper;
    private volatile boolean closed;

    public Leases(KeyValueStore kv, Clock clock) {
        this(kv, clock, TTL);
    }

    public Leases(KeyValueStore kv, Clock clock, Duration ttl) {
        this.kv = kv;
        this.clock = clock;
        this.ttl = ttl;
    }

    public Duration ttl() {
        return ttl;
    }

    private static String key(String work) {
        return "lease/" + work;
    }

    private Instant until() {
        return clock.instant().plus(ttl);
    }

    /** Takes the lease on {@code work} (or renews it, when this node holds it); false when another node holds it. */
    public boolean take(String work) {
        if (!kv.shared()) {
            held.put(work, true);
            return true;
        }
        boolean mine = kv.compareAndSet(key(work), null, node, until()) || kv.compareAndSet(key(work), node, node, until());
        if (mine) {
            held.put(work, true);
        }
        return mine;
    }

    /** Gives the lease on {@code work} up (the work ended, or this node stops it). */
    public void release(String work) {
        if (held.remove(work) != null && kv.shared()) {
            kv.compareAndSet(key(work), node, null, null);
        }
    }

    /** Gives every lease this node holds up (it stops). */
    public void releaseAll() {
        java.util.List.copyOf(held.keySet()).forEach(this::release);
    }

    /** Whether this node holds the lease on {@code work}. */
    public boolean holds(String work) {
        return held.containsKey(work);
    }

    /**
     * Renews every lease this node holds; one another node has taken meanwhile (this node was stalled past the lease)
     * is dropped here, and returned so its work can stop.
     */
    public java.util.List<String> renewAll() {
        if (!kv.shared()) {
            return java.util.List.of();
        }
        java.util.List<String> lost = new java.util.ArrayList<>();
        for (String work : held.keySet()) {
            if (!kv.compareAndSet(key(work), node, node, until()) && !kv.compareAndSet(key(work), null, node, until())) {
                held.remove(work);
                lost.add(work);
            }
        }
        return lost;
    }

    /**
     * Over a shared store, starts a thread ({@code name}) that every third of a lease's life, until {@link #close},
     * renews this node's leases and runs {@code takeOver}, which takes the work whose node stopped renewing (it died).
     * Over a store nobody shares there is nothing to keep: it does nothing.
     */
    public void keep(String name, Runnable takeOver) {
        if (!kv.shared()) {
            return;
        }
        long period = ttl.toMillis() / 3;
        keeper = Thread.ofPlatform().daemon().name(name).start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(period); // a period, not an ordering: nothing waits on this
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    renewAll();
                    takeOver.run();
                } catch (RuntimeException e) {
                    if (!closed) {
                        System.getLogger(Leases.class.getName()).log(System.Logger.Level.WARNING, name + " failed; trying again", e);
                    }
                }
            }
        });
    }

    /**
     * Stops the thread {@link #keep} started, once a round under way has ended: from then on this node takes no other
     * node's work (a service stopping calls this before it stops its own workers, so it starts nothing it cannot run).
     * Its leases stay held until {@link #close}.
     */
    public void stopKeeping() {
        closed = true;
        Thread k = keeper;
        if (k != null) {
            k.interrupt();
            boolean interrupted = false;
            while (k.isAlive()) {
                try {
                    k.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops keeping the leases and gives every one up: another node may take the work at once. */
    @Override
    public void close() {
        stopKeeping();
        releaseAll();
    }
}

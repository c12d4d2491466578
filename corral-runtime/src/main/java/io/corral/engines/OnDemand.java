package io.corral.engines;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.routing.Ticker;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Models loaded on their first request and unloaded when idle, as Ollama serves its models: a pulled model's file is
 * found by name ({@code files}), loaded by {@code loader} (an in-process engine), and kept while requests use it and
 * for its keep-alive after the last one (the default, or what a request set: Ollama's {@code keep_alive}). Within a
 * byte budget (the files' sizes) the least recently used idle model is unloaded to make room; when the models in the
 * way are all answering, a request waits for one to finish, up to {@code loadTimeout}, then is refused with the
 * reason; a model larger than the whole budget is refused at once. Models load side by side: a lock guards the
 * table only, never a load. {@link #sweep()} unloads what has been idle too long (the server calls it now and then;
 * tests with their own ticker).
 */
public final class OnDemand implements io.corral.spi.OnDemandModels, AutoCloseable {

    private final java.util.function.Supplier<List<String>> names;
    private final Function<String, Optional<Path>> files;
    private final BiFunction<String, Path, InferenceProvider> loader;
    private final Duration keepAlive;
    private final long budget;
    private final Duration loadTimeout;
    private final Ticker ticker;
    private final java.time.Clock clock;
    private final Object lock = new Object();
    private final Map<String, Loaded> loaded = new LinkedHashMap<>(); // guarded by lock; loading ones too

    /** A model loading or loaded: its engine (once loaded), its file's size, the requests using it, when last used. */
    private final class Loaded {
        final java.util.concurrent.CompletableFuture<InferenceProvider> engine = new java.util.concurrent.CompletableFuture<>();
        final long bytes;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile long lastUsed;
        volatile Duration keepAlive; // null: the default

        Loaded(long bytes) {
            this.bytes = bytes;
            this.lastUsed = ticker.nanos();
        }

        boolean idle() {
            return engine.isDone() && inFlight.get() == 0;
        }

        Duration keep() {
            return keepAlive != null ? keepAlive : OnDemand.this.keepAlive;
        }
    }

    /**
     * @param names       the names that can be loaded (listed before they are)
     * @param files       the file of a pulled model's name, if there is one
     * @param loader      loads a model (name, file) as an engine serving it under that name
     * @param keepAlive   how long an idle model stays loaded unless a request says otherwise
     * @param budget      the most bytes of model files loaded at once
     * @param loadTimeout how long a request waits for room in the budget
     */
    public OnDemand(java.util.function.Supplier<List<String>> names, Function<String, Optional<Path>> files,
                    BiFunction<String, Path, InferenceProvider> loader, Duration keepAlive, long budget, Duration loadTimeout,
                    Ticker ticker, java.time.Clock clock) {
        this.names = names;
        this.files = files;
        this.loader = loader;
        this.keepAlive = keepAlive;
        this.budget = budget;
        this.loadTimeout = loadTimeout;
        this.ticker = ticker;
        this.clock = clock;
    }

    @Override
    public List<String> names() {
        return names.get();
    }

    /** The GGUF headers read for {@link #describe}, by file and its time (a pulled file is replaced, not changed). */
    private final java.util.concurrent.ConcurrentHashMap<Path, Described> described = new java.util.concurrent.ConcurrentHashMap<>();

    private record Described(java.nio.file.attribute.FileTime modified, java.util.Map<String, Object> metadata) {
    }

    /** The file's GGUF header, read once per file (listing the pulled models reads no file twice). */
    @Override
    public java.util.Map<String, Object> describe(String name) {
        Optional<Path> found = files.apply(name);
        if (found.isEmpty()) {
            return java.util.Map.of();
        }
        Path file = found.get();
        try {
            java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(file);
            Described d = described.get(file);
            if (d == null || !d.modified().equals(modified)) {
                if (described.size() > 1024) {
                    described.clear(); // files of models removed since: bounded, read again when asked
                }
                d = new Described(modified, java.util.Map.copyOf(io.corral.gguf.ModelMetadata.read(file).toMap()));
                described.put(file, d);
            }
            return d.metadata();
        } catch (java.io.IOException | RuntimeException e) {
            return java.util.Map.of(); // gone or not a model file: listed without what it would say
        }
    }

    /** The provider of {@code name}, loading it first when it is a pulled model not loaded yet; null when it is none. */
    @Override
    public InferenceProvider get(String name) {
        Loaded l;
        boolean mine = false;
        Path file = null;
        synchronized (lock) {
            l = loaded.get(name);
            if (l == null) {
                Optional<Path> found = files.apply(name);
                if (found.isEmpty()) {
                    return null;
                }
                file = found.get();
                long bytes;
                try {
                    bytes = Files.size(file);
                } catch (java.io.IOException e) {
                    throw new UnavailableException("the file of " + name + " cannot be read: " + e.getMessage(), e);
                }
                if (bytes > budget) {
                    throw new UnavailableException("model " + name + " needs " + bytes + " bytes, more than the "
                            + budget + " the server may load at once");
                }
                long deadline = System.nanoTime() + loadTimeout.toNanos();
                while (!makeRoom(bytes)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        long used = loaded.values().stream().mapToLong(x -> x.bytes).sum();
                        throw new UnavailableException("model " + name + " needs " + bytes + " bytes and " + (budget - used)
                                + " of the " + budget + " budgeted are free while other models answer; retry later");
                    }
                    try {
                        lock.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new UnavailableException("interrupted while waiting to load " + name, e);
                    }
                    Loaded other = loaded.get(name); // someone else may have loaded it meanwhile
                    if (other != null) {
                        l = other;
                        break;
                    }
                }
                if (l == null) {
                    l = new Loaded(bytes);
                    loaded.put(name, l);
                    mine = true;
                }
            }
            l.inFlight.incrementAndGet(); // held until the engine is handed out: never unloaded in between
        }
        try {
            if (mine) {
                try {
                    l.engine.complete(loader.apply(name, file));
                } catch (RuntimeException | Error e) {
                    synchronized (lock) {
                        loaded.remove(name);
                        lock.notifyAll();
                    }
                    l.engine.completeExceptionally(e);
                    throw e;
                }
            }
            try {
                l.engine.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
            l.lastUsed = ticker.nanos();
            return new Counted(l, name);
        } finally {
            release(l, name);
        }
    }

    /** Ends a use of {@code l}: one whose keep-alive is zero is unloaded when its last use ends; waiters may go on. */
    private void release(Loaded l, String name) {
        if (l.inFlight.decrementAndGet() == 0) {
            synchronized (lock) {
                if (l.idle() && Duration.ZERO.equals(l.keepAlive) && loaded.get(name) == l) {
                    drop(name);
                }
                lock.notifyAll();
            }
        }
    }

    /** Unloads idle models, least recently used first, until {@code bytes} more fit the budget; false if they cannot. */
    private boolean makeRoom(long bytes) {
        long used = loaded.values().stream().mapToLong(x -> x.bytes).sum();
        List<Map.Entry<String, Loaded>> idle = new ArrayList<>(loaded.entrySet().stream().filter(e -> e.getValue().idle()).toList());
        idle.sort(Comparator.comparingLong(e -> e.getValue().lastUsed));
        for (var e : idle) {
            if (used + bytes <= budget) {
                break;
            }
            drop(e.getKey());
            used -= e.getValue().bytes;
        }
        return used + bytes <= budget;
    }

    private void drop(String name) {
        Loaded l = loaded.remove(name);
        if (l != null) {
            l.engine.join().close();
        }
    }

    /** Unloads the models idle for longer than their keep-alive. */
    public void sweep() {
        synchronized (lock) {
            long now = ticker.nanos();
            for (String name : new ArrayList<>(loaded.keySet())) {
                Loaded l = loaded.get(name);
                Duration keep = l.keep();
                if (l.idle() && !keep.isNegative() && now - l.lastUsed >= keep.toNanos()) {
                    drop(name);
                }
            }
            lock.notifyAll();
        }
    }

    @Override
    public List<io.corral.spi.OnDemandModels.Loaded> loaded() {
        synchronized (lock) {
            long now = ticker.nanos();
            java.time.Instant wall = clock.instant();
            List<io.corral.spi.OnDemandModels.Loaded> out = new ArrayList<>();
            loaded.entrySet().stream().filter(e -> e.getValue().engine.isDone() && !e.getValue().engine.isCompletedExceptionally())
                    .sorted(Comparator.comparingLong(e -> e.getValue().lastUsed)).forEach(e -> {
                        Loaded l = e.getValue();
                        Duration keep = l.keep();
                        java.time.Instant expires = keep.isNegative() ? null
                                : wall.plusNanos(Math.max(0, keep.toNanos() - (l.inFlight.get() > 0 ? 0 : now - l.lastUsed)));
                        List<ModelInfo> models = l.engine.join().models();
                        out.add(new io.corral.spi.OnDemandModels.Loaded(e.getKey(), l.bytes, expires, l.inFlight.get() > 0,
                                models.isEmpty() ? Map.of() : models.getFirst().metadata()));
                    });
            return out;
        }
    }

    @Override
    public void keepAlive(String name, Duration keep) {
        synchronized (lock) {
            Loaded l = loaded.get(name);
            if (l == null) {
                return;
            }
            l.keepAlive = keep;
            l.lastUsed = ticker.nanos();
            if (Duration.ZERO.equals(keep) && l.idle()) {
                drop(name);
                lock.notifyAll();
            }
        }
    }

    @Override
    public boolean unload(String name) {
        synchronized (lock) {
            Loaded l = loaded.get(name);
            if (l == null || !l.engine.isDone()) {
                return false;
            }
            l.keepAlive = Duration.ZERO; // what runs finishes; the last to end unloads it
            if (l.idle()) {
                drop(name);
                lock.notifyAll();
            }
            return true;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            for (String name : new ArrayList<>(loaded.keySet())) {
                Loaded l = loaded.get(name);
                if (l.engine.isDone() && !l.engine.isCompletedExceptionally()) {
                    drop(name);
                }
            }
        }
    }

    /** A loaded engine whose calls count as in flight until they end (a model in use is never unloaded). */
    private final class Counted implements InferenceProvider {
        private final Loaded l;
        private final String name;

        Counted(Loaded l, String name) {
            this.l = l;
            this.name = name;
        }

        private void done() {
            l.lastUsed = ticker.nanos();
            release(l, name);
        }

        @Override
        public TokenStream stream(ChatRequest request) {
            return counted(() -> l.engine.join().stream(request));
        }

        @Override
        public TokenStream stream(CompletionRequest request) {
            return counted(() -> l.engine.join().stream(request));
        }

        private TokenStream counted(java.util.function.Supplier<TokenStream> start) {
            l.inFlight.incrementAndGet();
            TokenStream s;
            try {
                s = start.get();
            } catch (RuntimeException e) {
                done();
                throw e;
            }
            return new TokenStream() {
                private boolean closed;

                public boolean hasNext() {
                    return s.hasNext();
                }

                public StreamEvent next() {
                    return s.next();
                }

                public void cancel() {
                    s.cancel();
                }

                public ChatResult result() {
                    return s.result();
                }

                public void close() {
                    s.close();
                    if (!closed) {
                        closed = true;
                        done();
                    }
                }
            };
        }

        @Override
        public EmbeddingResult embed(EmbeddingRequest request) {
            l.inFlight.incrementAndGet();
            try {
                return l.engine.join().embed(request);
            } finally {
                done();
            }
        }

        public String id() {
            return l.engine.join().id();
        }

        public String type() {
            return l.engine.join().type();
        }

        public String vendor() {
            return l.engine.join().vendor();
        }

        public Set<Capability> capabilities() {
            return l.engine.join().capabilities();
        }

        public List<ModelInfo> models() {
            return l.engine.join().models();
        }

        public void close() {
            // the engine is OnDemand's to close
        }
    }
}

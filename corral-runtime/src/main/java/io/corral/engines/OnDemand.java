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
 * for {@code keepAlive} after the last one; within a byte budget (the files' sizes), the least recently used idle
 * model is unloaded to make room, and a model that cannot fit is refused with the reason. {@link #sweep()} unloads what
 * has been idle too long (the server calls it now and then; tests with their own ticker).
 */
public final class OnDemand implements AutoCloseable {

    private final Function<String, Optional<Path>> files;
    private final BiFunction<String, Path, InferenceProvider> loader;
    private final Duration keepAlive;
    private final long budget;
    private final Ticker ticker;
    private final Map<String, Loaded> loaded = new LinkedHashMap<>();

    /** A loaded model: its engine, its file's size, the requests using it and when it was last used. */
    private final class Loaded {
        final InferenceProvider engine;
        final long bytes;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile long lastUsed;

        Loaded(InferenceProvider engine, long bytes) {
            this.engine = engine;
            this.bytes = bytes;
            this.lastUsed = ticker.nanos();
        }
    }

    /**
     * @param files    the file of a pulled model's name, if there is one
     * @param loader   loads a model (name, file) as an engine serving it under that name
     * @param budget   the most bytes of model files loaded at once
     */
    public OnDemand(Function<String, Optional<Path>> files, BiFunction<String, Path, InferenceProvider> loader, Duration keepAlive,
                    long budget, Ticker ticker) {
        this.files = files;
        this.loader = loader;
        this.keepAlive = keepAlive;
        this.budget = budget;
        this.ticker = ticker;
    }

    /** The provider of {@code name}, loading it first when it is a pulled model not loaded yet; null when it is none. */
    public synchronized InferenceProvider get(String name) {
        Loaded l = loaded.get(name);
        if (l == null) {
            Optional<Path> file = files.apply(name);
            if (file.isEmpty()) {
                return null;
            }
            long bytes;
            try {
                bytes = Files.size(file.get());
            } catch (java.io.IOException e) {
                throw new UnavailableException("the file of " + name + " cannot be read: " + e.getMessage(), e);
            }
            makeRoom(name, bytes);
            l = new Loaded(loader.apply(name, file.get()), bytes);
            loaded.put(name, l);
        }
        l.lastUsed = ticker.nanos();
        return new Counted(l);
    }

    /** Unloads idle models, least recently used first, until {@code bytes} more fit the budget; refuses if they cannot. */
    private void makeRoom(String name, long bytes) {
        long used = loaded.values().stream().mapToLong(x -> x.bytes).sum();
        List<Map.Entry<String, Loaded>> idle = new ArrayList<>(loaded.entrySet().stream().filter(e -> e.getValue().inFlight.get() == 0).toList());
        idle.sort(Comparator.comparingLong(e -> e.getValue().lastUsed));
        for (var e : idle) {
            if (used + bytes <= budget) {
                break;
            }
            unload(e.getKey());
            used -= e.getValue().bytes;
        }
        if (used + bytes > budget) {
            throw new UnavailableException("model " + name + " needs " + bytes + " bytes and " + (budget - used) + " of the "
                    + budget + " budgeted are free while other models answer; retry later");
        }
    }

    private void unload(String name) {
        Loaded l = loaded.remove(name);
        if (l != null) {
            l.engine.close();
        }
    }

    /** Unloads the models idle for longer than {@code keepAlive}. */
    public synchronized void sweep() {
        long now = ticker.nanos();
        for (String name : new ArrayList<>(loaded.keySet())) {
            Loaded l = loaded.get(name);
            if (l.inFlight.get() == 0 && now - l.lastUsed >= keepAlive.toNanos()) {
                unload(name);
            }
        }
    }

    /** The models loaded now, with their sizes (Ollama's {@code ps}). */
    public synchronized Map<String, Long> loaded() {
        Map<String, Long> out = new LinkedHashMap<>();
        loaded.forEach((k, v) -> out.put(k, v.bytes));
        return out;
    }

    @Override
    public synchronized void close() {
        new ArrayList<>(loaded.keySet()).forEach(this::unload);
    }

    /** A loaded engine whose calls count as in flight until they end (a model in use is never unloaded). */
    private final class Counted implements InferenceProvider {
        private final Loaded l;

        Counted(Loaded l) {
            this.l = l;
        }

        private void done() {
            l.inFlight.decrementAndGet();
            l.lastUsed = ticker.nanos();
        }

        @Override
        public TokenStream stream(ChatRequest request) {
            return counted(() -> l.engine.stream(request));
        }

        @Override
        public TokenStream stream(CompletionRequest request) {
            return counted(() -> l.engine.stream(request));
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
                return l.engine.embed(request);
            } finally {
                done();
            }
        }

        public String id() {
            return l.engine.id();
        }

        public String type() {
            return l.engine.type();
        }

        public String vendor() {
            return l.engine.vendor();
        }

        public Set<Capability> capabilities() {
            return l.engine.capabilities();
        }

        public List<ModelInfo> models() {
            return l.engine.models();
        }

        public void close() {
            // the engine is OnDemand's to close
        }
    }
}

package io.corral.routing;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InvalidRequestException;
import io.corral.api.RetriableException;
import io.corral.api.TokenLogprob;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.OpenAiWire;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One model served by several runners. Each request goes to a runner that has the capability it needs,
 * is healthy and whose breaker is closed, chosen by the mode, then priority, then load. A retriable
 * failure before the engine has begun answering (its first event) moves on to the next runner, with
 * backoff, up to {@code maxAttempts};
 * a failure after tokens have been streamed is reported in the stream, never retried behind the
 * caller's back. The result's metrics name the runner that served it and the attempts it took.
 */
public final class Router implements InferenceProvider {

    /** A provider that serves the model under its own id. */
    public record Runner(InferenceProvider provider, String upstreamModel, CircuitBreaker breaker, AtomicInteger inFlight) {
        public Runner(InferenceProvider provider, String upstreamModel, CircuitBreaker breaker) {
            this(provider, upstreamModel, breaker, new AtomicInteger());
        }
    }

    /** Routing settings. */
    public record Policy(RoutingMode mode, int maxAttempts, Duration backoff) {
        public static final Policy DEFAULT = new Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ofMillis(50));
    }

    private final ModelInfo model;
    private final List<Runner> runners;
    private final Policy policy;
    private final Predicate<InferenceProvider> healthy;
    private final boolean forwardable;

    public Router(ModelInfo model, List<Runner> runners, Policy policy, Predicate<InferenceProvider> healthy) {
        if (runners.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one runner");
        }
        this.model = model;
        this.runners = List.copyOf(runners);
        this.policy = policy;
        this.healthy = healthy;
        this.forwardable = this.runners.stream().allMatch(r -> r.provider() instanceof OpenAiWire);
    }

    public List<Runner> runners() {
        return runners;
    }

    @Override
    public String id() {
        return "router:" + model.id();
    }

    @Override
    public String type() {
        return "router";
    }

    @Override
    public String vendor() {
        return "corral";
    }

    @Override
    public Set<Capability> capabilities() {
        Set<Capability> all = EnumSet.noneOf(Capability.class);
        runners.forEach(r -> all.addAll(r.provider().capabilities()));
        return all;
    }

    @Override
    public boolean local() {
        return runners.stream().allMatch(r -> r.provider().local());
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(model);
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        return route(needs(request), runner -> runner.provider().stream(request.withModel(runner.upstreamModel())));
    }

    /** A whole answer, asked of each runner as a whole (no stream to read for a remote host). */
    @Override
    public ChatResult chat(ChatRequest request) {
        return call(needs(request), runner -> runner.provider().chat(request.withModel(runner.upstreamModel())));
    }

    @Override
    public ChatResult complete(CompletionRequest request) {
        return call(Capability.COMPLETION, runner -> runner.provider().complete(request.withModel(runner.upstreamModel())));
    }

    private static Capability needs(ChatRequest request) {
        return request.messages().stream().anyMatch(ChatMessage::hasImages) ? Capability.VISION : Capability.CHAT;
    }

    private ChatResult call(Capability needed, Function<Runner, ChatResult> ask) {
        TokenStream s = route(needed, runner -> new WholeAnswer(ask.apply(runner)));
        try (s) {
            return s.result();
        }
    }

    /** A finished answer seen as a stream, so whole answers share the routing loop. */
    private record WholeAnswer(ChatResult result) implements TokenStream {
        public boolean hasNext() { return false; }
        public String next() { throw new java.util.NoSuchElementException(); }
        public void cancel() { }
        public void close() { }
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        return route(Capability.COMPLETION, runner -> runner.provider().stream(request.withModel(runner.upstreamModel())));
    }

    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        RuntimeException last = null;
        int attempt = 0;
        for (Runner runner : candidates(Capability.EMBEDDINGS)) {
            if (attempt++ >= policy.maxAttempts()) {
                break;
            }
            try {
                EmbeddingResult r = runner.provider().embed(new EmbeddingRequest(runner.upstreamModel(), request.inputs()));
                runner.breaker().success();
                return r;
            } catch (RetriableException e) {
                runner.breaker().failure();
                last = e;
                backoff(attempt);
            }
        }
        throw noRunner(Capability.EMBEDDINGS, last);
    }

    /** The runners that may take a request needing {@code capability}, best first. */
    List<Runner> candidates(Capability capability) {
        Comparator<Runner> order = Comparator.<Runner>comparingInt(r -> switch (policy.mode()) {
                    case LOCAL_FIRST, LOCAL_ONLY -> r.provider().local() ? 0 : 1;
                    case REMOTE_FIRST, REMOTE_ONLY -> r.provider().local() ? 1 : 0;
                })
                .thenComparing(r -> -r.provider().priority())
                .thenComparingInt(r -> r.inFlight().get());
        List<Runner> list = new ArrayList<>();
        for (Runner r : runners) {
            boolean allowedByMode = switch (policy.mode()) {
                case LOCAL_ONLY -> r.provider().local();
                case REMOTE_ONLY -> !r.provider().local();
                default -> true;
            };
            if (allowedByMode && r.provider().capabilities().contains(capability) && healthy.test(r.provider())) {
                list.add(r);
            }
        }
        list.sort(order);
        return list;
    }

    private TokenStream route(Capability needed, Function<Runner, TokenStream> start) {
        Attempt<TokenStream> a = attempt(needed, runner -> {
            TokenStream stream = start.apply(runner);
            try {
                stream.awaitStart(); // the engine has begun, or failed before it did
                return stream;
            } catch (RuntimeException e) {
                stream.close();
                throw e;
            }
        });
        return new Routed(a.value(), a.runner(), a.attempts());
    }

    /** Whether every runner speaks the OpenAI wire, so requests can be forwarded as bytes ({@link #forward}). */
    public boolean forwardable() {
        return forwardable;
    }

    /**
     * Forwards an OpenAI request untouched to the runner {@link #stream} would choose, with the same
     * fallback and breaker; it has begun once the host answers 2xx. {@code body} gives the request's bytes
     * for a runner's own model id. Needs {@link #forwardable()}.
     */
    public Forwarded forward(Capability needed, String path, Function<String, byte[]> body) {
        Attempt<OpenAiWire.WireResponse> a = attempt(needed,
                runner -> ((OpenAiWire) runner.provider()).post(path, body.apply(runner.upstreamModel())));
        return new Forwarded(a.value(), a.runner(), a.attempts());
    }

    /** A forwarded answer being read; closing it ends the runner's share of the load. */
    public static final class Forwarded implements AutoCloseable {
        private final OpenAiWire.WireResponse response;
        private final Runner runner;
        private final int attempts;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        private Forwarded(OpenAiWire.WireResponse response, Runner runner, int attempts) {
            this.response = response;
            this.runner = runner;
            this.attempts = attempts;
        }

        public OpenAiWire.WireResponse response() {
            return response;
        }

        public String runner() {
            return runner.provider().id();
        }

        public int attempts() {
            return attempts;
        }

        /** The answer broke off after it began: counted against the runner, never retried. */
        public void failed() {
            runner.breaker().failure();
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                runner.inFlight().decrementAndGet();
                response.close();
            }
        }
    }

    private record Attempt<T>(T value, Runner runner, int attempts) {
    }

    /** The routing loop: the candidates best first, a retriable failure moves on, with backoff. */
    private <T> Attempt<T> attempt(Capability needed, Function<Runner, T> start) {
        List<Runner> candidates = candidates(needed);
        if (candidates.isEmpty() && runners.stream().noneMatch(r -> r.provider().capabilities().contains(needed))) {
            throw new InvalidRequestException("model", "model " + model.id() + " has no runner that can do "
                    + needed.name().toLowerCase());
        }
        RuntimeException last = null;
        int attempt = 0;
        for (Runner runner : candidates) {
            if (attempt >= policy.maxAttempts()) {
                break;
            }
            if (!runner.breaker().allow()) {
                continue;
            }
            attempt++;
            runner.inFlight().incrementAndGet();
            try {
                T started = start.apply(runner);
                runner.breaker().success();
                return new Attempt<>(started, runner, attempt);
            } catch (RetriableException e) {
                runner.inFlight().decrementAndGet();
                runner.breaker().failure();
                last = e;
                backoff(attempt);
            } catch (RuntimeException e) {
                runner.inFlight().decrementAndGet();
                throw e; // the request itself is wrong: another runner would refuse it too
            }
        }
        throw noRunner(needed, last);
    }

    private UnavailableException noRunner(Capability needed, RuntimeException last) {
        return new UnavailableException("no runner could serve " + model.id()
                + (last == null ? " (all are down or cooling off)" : "; last failure: " + last.getMessage()), last);
    }

    private void backoff(int attempt) {
        try {
            Thread.sleep(policy.backoff().multipliedBy(1L << Math.min(attempt - 1, 6)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        // runners belong to their registry
    }

    /** A stream that counts its runner's load, records a mid-stream failure, and reports the attempts. */
    private static final class Routed implements TokenStream {
        private final TokenStream stream;
        private final Runner runner;
        private final int attempts;
        private boolean closed;

        Routed(TokenStream stream, Runner runner, int attempts) {
            this.stream = stream;
            this.runner = runner;
            this.attempts = attempts;
        }

        @Override
        public boolean hasNext() {
            try {
                return stream.hasNext();
            } catch (RetriableException e) {
                runner.breaker().failure(); // cut after tokens: counted, and told to the caller
                throw e;
            }
        }

        @Override
        public String next() {
            return stream.next();
        }

        @Override
        public void awaitStart() {
            stream.awaitStart();
        }

        @Override
        public void cancel() {
            stream.cancel();
        }

        @Override
        public ChatResult result() {
            ChatResult r = stream.result();
            return r.withMetrics(r.metrics().withAttempts(attempts));
        }

        @Override
        public List<TokenLogprob> takeLogprobs() {
            return stream.takeLogprobs();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                runner.inFlight().decrementAndGet();
                stream.close();
            }
        }
    }
}

package io.corral.routing;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.InvalidRequestException;
import io.corral.api.RetriableException;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.Span;
import io.corral.spi.Spans;

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

    /** A provider that serves the model as {@code model} (its own id, type and capabilities). */
    public record Runner(InferenceProvider provider, ModelInfo model, CircuitBreaker breaker, AtomicInteger inFlight) {
        public Runner(InferenceProvider provider, ModelInfo model, CircuitBreaker breaker) {
            this(provider, model, breaker, new AtomicInteger());
        }

        /** The provider's model {@code upstreamModel}, as it lists it (or, unlisted, able to do what the provider can). */
        public Runner(InferenceProvider provider, String upstreamModel, CircuitBreaker breaker) {
            this(provider, provider.models().stream().filter(m -> m.id().equals(upstreamModel)).findFirst()
                    .orElse(ModelInfo.llm(upstreamModel, provider.id(), 0, provider.capabilities(), java.util.Map.of())), breaker);
        }

        /** The provider's own id for the model. */
        public String upstreamModel() {
            return model.id();
        }

        public boolean can(Capability c) {
            return model.capabilities().contains(c);
        }
    }

    /**
     * What the router knows of its runners' health and tells back: whether a runner may be tried (a host
     * found down by its probe may not), and how each try went, so a failure shows at once (passive health)
     * and a success heals it. A listener that throws is ignored.
     */
    public interface Health {
        boolean healthy(InferenceProvider p);

        /** The runner began answering. */
        default void succeeded(InferenceProvider p) {
        }

        /** The runner failed a request (refused, timed out, 5xx, cut a stream). */
        default void failed(InferenceProvider p, RuntimeException e) {
        }

        /** Only a check, telling nothing back. */
        static Health of(Predicate<InferenceProvider> healthy) {
            return healthy::test;
        }
    }

    /** Routing settings. */
    public record Policy(RoutingMode mode, int maxAttempts, Duration backoff) {
        public static final Policy DEFAULT = new Policy(RoutingMode.LOCAL_FIRST, 3, Duration.ofMillis(50));
    }

    private final ModelInfo model;
    private final List<Runner> runners;
    private final Policy policy;
    private final Health health;

    public Router(ModelInfo model, List<Runner> runners, Policy policy, Health health) {
        if (runners.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one runner");
        }
        this.runners = List.copyOf(runners);
        // what the model can do is what any of its runners can
        this.model = new ModelInfo(model.id(), model.provider(), model.type(), model.contextLength(), model.dimension(),
                capabilities(), model.metadata());
        this.policy = policy;
        this.health = health;
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
        runners.forEach(r -> all.addAll(r.model().capabilities()));
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
        public boolean hasNext() { return false; } // read only for its result
        public StreamEvent next() { throw new java.util.NoSuchElementException(); }
        public void cancel() { }
        public void close() { }
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        return route(Capability.COMPLETION, runner -> runner.provider().stream(request.withModel(runner.upstreamModel())));
    }

    /** Embeddings through the same routing loop as generation: breakers, fallback, backoff. */
    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        Attempt<EmbeddingResult> a = attempt(Capability.EMBEDDINGS,
                runner -> runner.provider().embed(request.withModel(runner.upstreamModel())));
        a.plan().generation().set("gen_ai.usage.input_tokens", a.value().promptTokens());
        a.plan().released(a.runner()); // a whole answer: done as soon as it is back
        return a.value();
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
            if (allowedByMode && r.can(capability) && health.healthy(r.provider())) {
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
        return new Routed(a.value(), a.runner(), a.plan());
    }

    /**
     * The routing loop's steps, for a caller that cannot block between them (an event-loop gateway):
     * {@link Plan#next()} gives the runner to try, and the caller reports how it went. Each try is a span
     * ({@code corral.router.attempt}, with the runner, the attempt number and the outcome) holding the
     * generation's span ({@code chat <model>}, with the {@code gen_ai.*} attributes), both children of
     * {@code parent}. {@link #stream} and the other calls run the same plan on the caller's thread, under
     * its current span.
     */
    public Plan plan(Capability needed, Span parent) {
        List<Runner> candidates = candidates(needed);
        if (candidates.isEmpty() && runners.stream().noneMatch(r -> r.can(needed))) {
            throw new InvalidRequestException("model", "model " + model.id() + " (" + model.type().wire() + ") "
                    + switch (needed) {
                        case EMBEDDINGS -> "does not make embeddings";
                        case VISION -> "does not accept images";
                        case COMPLETION -> "does not complete text";
                        default -> "does not " + needed.name().toLowerCase(java.util.Locale.ROOT);
                    });
        }
        return new Plan(needed, candidates, parent);
    }

    /** One request's way through the candidates: at most {@code maxAttempts} tries, skipping open breakers. */
    public final class Plan {
        private final Capability needed;
        private final List<Runner> candidates;
        private final Span parent;
        private int index;
        private int attempts;
        private RuntimeException last;
        private Span attempt = Span.NOOP;    // the try under way
        private Span generation = Span.NOOP;

        private Plan(Capability needed, List<Runner> candidates, Span parent) {
            this.needed = needed;
            this.candidates = candidates;
            this.parent = parent;
        }

        /** The next runner to try, now counted as loaded; null when none is left (then {@link #exhausted()}). */
        public Runner next() {
            while (attempts < policy.maxAttempts() && index < candidates.size()) {
                Runner r = candidates.get(index++);
                if (r.breaker().allow()) {
                    attempts++;
                    r.inFlight().incrementAndGet();
                    if (parent == Span.NOOP) {
                        return r; // untraced: no spans to name
                    }
                    String operation = switch (needed) {
                        case COMPLETION -> "text_completion";
                        case EMBEDDINGS -> "embeddings";
                        default -> "chat";
                    };
                    attempt = parent.child("corral.router.attempt").set("corral.model", model.id())
                            .set("corral.runner", r.provider().id()).set("corral.attempt", attempts);
                    generation = attempt.child(operation + " " + r.upstreamModel())
                            .set("gen_ai.operation.name", operation).set("gen_ai.request.model", r.upstreamModel())
                            .set("gen_ai.provider.name", r.provider().vendor());
                    return r;
                }
            }
            return null;
        }

        public int attempts() {
            return attempts;
        }

        /** The span of the generation under way, for its usage and timings. */
        public Span generation() {
            return generation;
        }

        /** The runner has begun answering. */
        public void started(Runner r) {
            r.breaker().success();
            attempt.set("corral.outcome", "served");
            tell(() -> health.succeeded(r.provider()));
        }

        /** The runner failed before it began; returns how long to wait before the next. */
        public Duration failed(Runner r, RuntimeException e) {
            r.inFlight().decrementAndGet();
            r.breaker().failure();
            generation.fail(e).end();
            attempt.set("corral.outcome", e instanceof RetriableException ? "failed" : "refused").fail(e).end();
            tell(() -> health.failed(r.provider(), e));
            last = e;
            return policy.backoff().multipliedBy(1L << Math.min(attempts - 1, 6));
        }

        /** The runner is done with the request (after {@link #started}, or refused it for good). */
        public void released(Runner r) {
            r.inFlight().decrementAndGet();
            generation.end();
            attempt.end();
        }

        /** The request itself was wrong (the runner refused it for good): no other runner is tried. */
        public void refused(Runner r, RuntimeException e) {
            generation.fail(e);
            attempt.set("corral.outcome", "refused").fail(e);
            released(r);
        }

        /** The answer broke off after it began: counted against the runner, never retried. */
        public void brokeOff(Runner r, RuntimeException e) {
            r.breaker().failure();
            generation.fail(e);
            attempt.set("corral.outcome", "broke_off").fail(e);
            tell(() -> health.failed(r.provider(), e));
        }

        /** Records what the generation used and how fast it went, on its span. */
        public void finished(ChatResult r) {
            generation.set("gen_ai.response.model", r.metrics().model() == null ? "" : r.metrics().model())
                    .set("gen_ai.usage.input_tokens", r.usage().promptTokens())
                    .set("gen_ai.usage.output_tokens", r.usage().completionTokens())
                    .set("gen_ai.response.finish_reasons", r.finishReason().name().toLowerCase())
                    .set("corral.time_to_first_token_ms", r.metrics().timeToFirstToken().toNanos() / 1e6)
                    .set("corral.tokens_per_second", r.metrics().tokensPerSecond());
        }

        /** Why the request could not be served, once {@link #next()} gave null. */
        public UnavailableException exhausted() {
            return noRunner(needed, last);
        }
    }

    private record Attempt<T>(T value, Runner runner, Plan plan) {
    }

    /** The routing loop on the caller's thread: the plan's runners best first, a retriable failure moves on. */
    private <T> Attempt<T> attempt(Capability needed, Function<Runner, T> start) {
        Plan plan = plan(needed, Spans.current());
        for (Runner runner; (runner = plan.next()) != null; ) {
            try {
                T started = start.apply(runner);
                plan.started(runner);
                return new Attempt<>(started, runner, plan);
            } catch (RetriableException e) {
                sleep(plan.failed(runner, e));
            } catch (RuntimeException e) {
                plan.refused(runner, e);
                throw e; // the request itself is wrong: another runner would refuse it too
            }
        }
        throw plan.exhausted();
    }

    private UnavailableException noRunner(Capability needed, RuntimeException last) {
        return new UnavailableException("no runner could serve " + model.id()
                + (last == null ? " (all are down or cooling off)" : "; last failure: " + last.getMessage()), last);
    }

    /** Health listeners must never break a request. */
    private static void tell(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            System.getLogger("corral.routing").log(System.Logger.Level.WARNING, "health listener failed", e);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        // runners belong to their registry
    }

    /** A stream that counts its runner's load, records a mid-stream failure and its usage, and reports the attempts. */
    private static final class Routed implements TokenStream {
        private final TokenStream stream;
        private final Runner runner;
        private final Plan plan;
        private final int attempts;
        private boolean closed;
        private boolean recorded;

        Routed(TokenStream stream, Runner runner, Plan plan) {
            this.stream = stream;
            this.runner = runner;
            this.plan = plan;
            this.attempts = plan.attempts();
        }

        @Override
        public boolean hasNext() {
            try {
                return stream.hasNext();
            } catch (RetriableException e) {
                plan.brokeOff(runner, e); // cut after tokens: counted, and told to the caller
                throw e;
            }
        }

        @Override
        public StreamEvent next() {
            try {
                return stream.next();
            } catch (RetriableException e) {
                plan.brokeOff(runner, e);
                throw e;
            }
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
            if (!recorded) {
                recorded = true;
                plan.finished(r);
            }
            return r.withMetrics(r.metrics().withAttempts(attempts));
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                stream.close();
                plan.released(runner);
            }
        }
    }
}

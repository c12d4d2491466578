package io.corral.testing;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.FinishReason;
import io.corral.api.Metrics;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.Usage;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A test double of {@link InferenceProvider} for tests of what wraps a provider (routing, the server's
 * pipeline), where the engine is not what is tested: each call takes the next step of a script (answer
 * these tokens, fail with this exception, stop after n tokens and fail, wait for a latch between tokens),
 * the last step repeating; every request it gets is recorded.
 */
public final class ScriptedProvider implements InferenceProvider {

    /** One call's behaviour. */
    public sealed interface Step permits Answer, Fail, Cut, Calls {
    }

    /** Streams {@code text} (may be empty), then asks for {@code calls}, each as one tool-call piece; finishes with TOOL_CALLS. */
    public record Calls(String text, List<io.corral.api.ToolCall> calls) implements Step {
    }

    /** Asks for one tool call: {@code name} with {@code arguments} (JSON). */
    public static Step call(String name, String arguments) {
        return new Calls("", List.of(new io.corral.api.ToolCall("call_" + Integer.toHexString((name + arguments).hashCode()), name, arguments)));
    }

    /** Streams {@code tokens}, each after {@code gate} opens (null: at once), then finishes with STOP. */
    public record Answer(List<String> tokens, CountDownLatch gate) implements Step {
    }

    /** Fails before the first token. */
    public record Fail(RuntimeException error) implements Step {
    }

    /** Streams {@code tokens}, then fails with {@code error} (a stream cut short). */
    public record Cut(List<String> tokens, RuntimeException error) implements Step {
    }

    public static Step answer(String... tokens) {
        return new Answer(List.of(tokens), null);
    }

    /** Each token waits for {@code gate} to open: a stream that stays open until the test lets it go. */
    public static Step gated(CountDownLatch gate, String... tokens) {
        return new Answer(List.of(tokens), gate);
    }

    public static Step fail(RuntimeException e) {
        return new Fail(e);
    }

    public static Step cut(RuntimeException e, String... tokens) {
        return new Cut(List.of(tokens), e);
    }

    private final String id;
    private final List<String> models;
    private final Set<Capability> capabilities;
    private final boolean local;
    private final ArrayDeque<Step> script = new ArrayDeque<>();
    private Step last = answer("ok");
    private final List<Object> requests = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean closed;

    public ScriptedProvider(String id, boolean local, Set<Capability> capabilities, String... models) {
        this.id = id;
        this.local = local;
        this.capabilities = capabilities.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(capabilities);
        this.models = List.of(models);
    }

    /** A local chat and completion provider serving {@code models}. */
    public static ScriptedProvider chat(String id, String... models) {
        return new ScriptedProvider(id, true, EnumSet.of(Capability.CHAT, Capability.COMPLETION), models);
    }

    /** Appends steps to the script; the last one repeats once the others are used. */
    public synchronized ScriptedProvider then(Step... steps) {
        for (Step s : steps) {
            script.add(s);
        }
        return this;
    }

    private synchronized Step next() {
        Step s = script.poll();
        if (s != null) {
            last = s;
            return s;
        }
        return last;
    }

    /** Every request received, in order (chat, completion and embedding requests). */
    public List<Object> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public boolean closed() {
        return closed;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return "test::scripted";
    }

    @Override
    public String vendor() {
        return "test";
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public boolean local() {
        return local;
    }

    @Override
    public List<ModelInfo> models() {
        return models.stream().map(m -> ModelInfo.llm(m, id, 512, capabilities, Map.of())).toList();
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        requests.add(request);
        return start(request.model());
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        requests.add(request);
        return start(request.model());
    }

    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        requests.add(request);
        if (next() instanceof Fail f) {
            throw f.error();
        }
        List<float[]> vectors = request.inputs().stream().map(s -> new float[]{s.length(), 1}).toList();
        return new EmbeddingResult(request.model(), vectors, request.inputs().size());
    }

    private TokenStream start(String model) {
        Step step = next();
        if (step instanceof Fail f) {
            throw f.error();
        }
        if (step instanceof Calls c) {
            return new Scripted(model, c.text().isEmpty() ? List.of() : List.of(c.text()), null, null, c.calls());
        }
        List<String> tokens = step instanceof Answer a ? a.tokens() : ((Cut) step).tokens();
        CountDownLatch gate = step instanceof Answer a ? a.gate() : null;
        RuntimeException error = step instanceof Cut c ? c.error() : null;
        return new Scripted(model, tokens, gate, error, List.of());
    }

    private final class Scripted implements TokenStream {
        private final String model;
        private final List<String> tokens;
        private final CountDownLatch gate;
        private final RuntimeException error;
        private final StringBuilder text = new StringBuilder();
        private final List<io.corral.api.ToolCall> calls;
        private int index;
        private int callIndex;
        private boolean finishSent;
        private volatile boolean cancelled;

        Scripted(String model, List<String> tokens, CountDownLatch gate, RuntimeException error, List<io.corral.api.ToolCall> calls) {
            this.model = model;
            this.tokens = tokens;
            this.gate = gate;
            this.error = error;
            this.calls = calls;
        }

        @Override
        public boolean hasNext() {
            return tokenNext() || !cancelled && callIndex < calls.size() || !finishSent;
        }

        /** Whether a token is next (waiting for the gate); throws the scripted error at the cut. */
        private boolean tokenNext() {
            if (cancelled) {
                return false;
            }
            if (index < tokens.size() && gate != null) {
                try {
                    while (!gate.await(10, TimeUnit.MILLISECONDS)) {
                        if (cancelled) {
                            return false;
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            if (index >= tokens.size() && error != null) {
                throw error;
            }
            return index < tokens.size();
        }

        @Override
        public StreamEvent next() {
            if (tokenNext()) {
                String t = tokens.get(index++);
                text.append(t);
                return new StreamEvent.Text(t);
            }
            if (!cancelled && callIndex < calls.size()) {
                io.corral.api.ToolCall c = calls.get(callIndex);
                return new StreamEvent.ToolCallDelta(callIndex++, c.id(), c.name(), c.arguments());
            }
            if (finishSent) {
                throw new NoSuchElementException();
            }
            finishSent = true;
            return new StreamEvent.Finish(reason(), usage());
        }

        private FinishReason reason() {
            return cancelled ? FinishReason.CANCELLED : calls.isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS;
        }

        private Usage usage() {
            return new Usage(3, 0, index);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        @Override
        public ChatResult result() {
            while (hasNext()) {
                next();
            }
            return new ChatResult(text.toString(), cancelled ? List.of() : calls, reason(),
                    usage(), new Metrics(model, id, Duration.ZERO, Duration.ZERO, 0));
        }

        @Override
        public void close() {
            cancelled = true;
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}

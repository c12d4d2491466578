package io.corral.safety;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.SafetyProvider.Violation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A provider whose answers pass output shields: a whole answer at its end; a stream window by window (every
 * {@code window} characters and at its end), each window held back until it passed (or, with {@code holdBack} off,
 * streamed first). A violation stops the generation at once: the answer ends with the shield's message and
 * {@link FinishReason#CONTENT_FILTER}, without what was found (its tool calls too).
 */
final class GuardedProvider implements InferenceProvider {

    /** Characters of a held-back stream kept back after a window passed, for what the next window completes. */
    static final int MARGIN = 64;

    private final InferenceProvider delegate;
    private final Function<List<ChatMessage>, Optional<Violation>> judge;
    private final int window;
    private final boolean holdBack;
    private Consumer<List<ChatMessage>> input = m -> { };

    GuardedProvider(InferenceProvider delegate, Function<List<ChatMessage>, Optional<Violation>> judge, int window, boolean holdBack) {
        this.delegate = delegate;
        this.judge = judge;
        this.window = window;
        this.holdBack = holdBack;
    }

    /** Also checks each call's input first (the library's guarded model; the server checks input before admission). */
    GuardedProvider checkingInput(Consumer<List<ChatMessage>> check) {
        this.input = check;
        return this;
    }

    @Override
    public ChatResult chat(ChatRequest request) {
        input.accept(request.messages());
        return checked(request.messages(), delegate.chat(request));
    }

    @Override
    public ChatResult complete(CompletionRequest request) {
        List<ChatMessage> prompt = List.of(ChatMessage.user(request.prompt() == null ? "" : request.prompt()));
        input.accept(prompt);
        return checked(prompt, delegate.complete(request));
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        input.accept(request.messages());
        return new Guarded(delegate.stream(request), request.messages());
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        List<ChatMessage> prompt = List.of(ChatMessage.user(request.prompt() == null ? "" : request.prompt()));
        input.accept(prompt);
        return new Guarded(delegate.stream(request), prompt);
    }

    private ChatResult checked(List<ChatMessage> conversation, ChatResult r) {
        Optional<Violation> v = judge.apply(with(conversation, r.text()));
        return v.isEmpty() ? r : blocked(r, v.get());
    }

    private static ChatResult blocked(ChatResult r, Violation v) {
        return new ChatResult(message(v), List.of(), FinishReason.CONTENT_FILTER, r.usage(), r.metrics());
    }

    private static String message(Violation v) {
        return v.userMessage() == null ? "The answer was withheld by a safety shield." : v.userMessage();
    }

    private static List<ChatMessage> with(List<ChatMessage> conversation, String answer) {
        List<ChatMessage> all = new ArrayList<>(conversation);
        all.add(ChatMessage.assistant(answer));
        return all;
    }

    /** A stream checked as it grows. */
    private final class Guarded implements TokenStream {
        private final TokenStream inner;
        private final List<ChatMessage> conversation;
        private final StringBuilder text = new StringBuilder();
        private final ArrayDeque<StreamEvent> held = new ArrayDeque<>();
        private final ArrayDeque<StreamEvent> out = new ArrayDeque<>();
        private int checked;
        private boolean ended;
        private Violation violation;

        Guarded(TokenStream inner, List<ChatMessage> conversation) {
            this.inner = inner;
            this.conversation = conversation;
        }

        @Override
        public void awaitStart() {
            inner.awaitStart();
        }

        @Override
        public boolean hasNext() {
            while (out.isEmpty() && !ended) {
                if (!inner.hasNext()) {
                    ended = true;
                    release();
                    break;
                }
                StreamEvent e = inner.next();
                switch (e) {
                    case StreamEvent.Text t -> {
                        text.append(t.text());
                        hold(e);
                        if (text.length() - checked >= window && !pass(false)) {
                            return true;
                        }
                    }
                    case StreamEvent.ToolCallDelta d -> hold(e);
                    case StreamEvent.Finish f -> {
                        if (text.length() > checked && !pass(true)) {
                            return true;
                        }
                        release();
                        out.add(f);
                        ended = true;
                    }
                }
            }
            return !out.isEmpty();
        }

        private static int length(StreamEvent e) {
            return e instanceof StreamEvent.Text t ? t.text().length() : 0;
        }

        private void hold(StreamEvent e) {
            if (holdBack) {
                held.add(e);
            } else {
                out.add(e);
            }
        }

        private void release() {
            out.addAll(held);
            held.clear();
        }

        /**
         * Checks the answer so far; releases what was held, or ends the stream with the shield's message. Until the
         * end, the last {@value #MARGIN} characters stay held: what a later window completes (an e-mail address cut
         * between two windows) is still withheld when it is found.
         */
        private boolean pass(boolean last) {
            checked = text.length();
            Optional<Violation> v = judge.apply(with(conversation, text.toString()));
            if (v.isEmpty()) {
                if (last) {
                    release();
                } else {
                    int heldChars = 0;
                    for (StreamEvent e : held) {
                        heldChars += e instanceof StreamEvent.Text t ? t.text().length() : 0;
                    }
                    while (!held.isEmpty() && heldChars - length(held.peek()) >= MARGIN) {
                        heldChars -= length(held.peek());
                        out.add(held.poll());
                    }
                }
                return true;
            }
            violation = v.get();
            inner.cancel(); // stop the engine now
            held.clear();
            out.add(new StreamEvent.Text(message(violation)));
            ChatResult r = inner.result();
            out.add(new StreamEvent.Finish(FinishReason.CONTENT_FILTER, r.usage()));
            ended = true;
            return false;
        }

        @Override
        public StreamEvent next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return out.poll();
        }

        @Override
        public void cancel() {
            inner.cancel();
        }

        @Override
        public ChatResult result() {
            while (hasNext()) {
                next();
            }
            ChatResult r = inner.result();
            return violation == null ? r : blocked(r, violation);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    // ---- the rest is the model's own ----

    @Override
    public String id() {
        return delegate.id();
    }

    @Override
    public String type() {
        return delegate.type();
    }

    @Override
    public String vendor() {
        return delegate.vendor();
    }

    @Override
    public Set<Capability> capabilities() {
        return delegate.capabilities();
    }

    @Override
    public int priority() {
        return delegate.priority();
    }

    @Override
    public boolean local() {
        return delegate.local();
    }

    @Override
    public List<ModelInfo> models() {
        return delegate.models();
    }

    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        return delegate.embed(request);
    }

    @Override
    public void close() {
        delegate.close();
    }
}

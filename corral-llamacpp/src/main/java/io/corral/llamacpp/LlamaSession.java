package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatResult;
import io.corral.api.ContextOverflowException;
import io.corral.api.ContextUsage;
import io.corral.api.InvalidModelException;
import io.corral.api.InvalidRequestException;
import io.corral.llamacpp.ffi.NativeVision;
import io.corral.api.ResponseFormat;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.Session;
import io.corral.api.TokenStream;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A conversation on its own sequence of the engine's KV cache. Each turn evaluates only the text added since the
 * last one: the answer's tokens stay in the cache, up to the last one whose text is part of the recorded answer
 * (tokens of a stop sequence, or sampled but not yet read, are dropped). A turn is a generation like any other,
 * batched with the engine's other requests; between turns the sequence is an idle one the engine may evict when
 * it needs the stream (after stateless ones): its cells are then kept in host memory and written back at its next
 * turn, or, once the engine has dropped them for newer ones, its tokens are evaluated again.
 *
 * <p>Overflow policy: the system prompt (and BOS) are never dropped. When a turn would not fit with
 * room to answer (max_tokens, at most a quarter of the window), the oldest tokens after the system
 * prompt are dropped: at least half of them (llama.cpp's context-shift rule), more if needed. When the
 * window fills during an answer, half of the droppable tokens go the same way. The KV cache is edited
 * in place ({@code llama_memory_seq_rm} and {@code seq_add}) when the cells are the session's own.
 *
 * <p>The sequence is touched on the engine's decode thread only ({@link Scheduler#call}).
 */
public final class LlamaSession implements Session {

    private static final int MAGIC = 0x43524C53; // "CRLS"
    private static final int VERSION = 1;

    private final LlamaCppEngine engine;
    private final Scheduler scheduler;
    private final KvCache cache;
    private final SamplingParams sampling;
    private final List<ChatMessage> history = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile String renderedText = "";
    private int protectedTokens;
    private Generation active;
    private boolean closed;

    LlamaSession(LlamaCppEngine engine, String systemPrompt, SamplingParams sampling) {
        this.engine = engine;
        this.scheduler = engine.scheduler();
        this.sampling = sampling == null ? SamplingParams.DEFAULTS : sampling;
        this.cache = scheduler.newSessionCache();
        if (systemPrompt != null && !systemPrompt.isBlank()) {
            history.add(ChatMessage.system(systemPrompt));
        }
        resetToSystemPrompt();
    }

    /** Forgets all but the system prompt, which is evaluated with the first turn (or found in the cache). */
    private void resetToSystemPrompt() {
        renderedText = history.isEmpty() ? "" : engine.format().render(history, false);
        int[] tokens = engine.model().tokenize(renderedText, true, !engine.format().plain());
        if (tokens.length >= cache.capacity()) {
            throw new ContextOverflowException("system prompt of " + tokens.length
                    + " tokens does not fit the context window of " + cache.capacity());
        }
        scheduler.call(() -> cache.set(tokens));
        protectedTokens = tokens.length;
    }

    @Override
    public ChatResult send(String userText) {
        try (TokenStream stream = stream(ChatMessage.user(userText))) {
            return stream.result();
        }
    }

    @Override
    public TokenStream stream(ChatMessage message) {
        checkOpen();
        awaitTurn();
        if (message.role() == Role.SYSTEM) {
            throw new InvalidRequestException("messages", "a session's system prompt is set when it is opened");
        }
        if (message.hasImages() && !engine.vision()) {
            throw new InvalidRequestException("messages", "model " + engine.modelId() + " does not accept images"
                    + " (it has no projector: give one with --mmproj or mmproj in its config, or put it beside the model)");
        }
        List<ChatMessage> next = new ArrayList<>(history);
        next.add(message);
        // an image is the projector's marker in the rendered text; its slots in the cache hold its (negative) id
        String render = engine.format().render(Images.marked(next, NativeVision.MARKER), true);
        boolean plain = engine.format().plain();
        String before = renderedText;
        boolean extending = render.startsWith(before);
        int[] added;
        List<NativeVision.Embedded> images = List.of();
        if (extending && !message.hasImages() || !engine.vision()) {
            added = extending ? engine.model().tokenize(render.substring(before.length()), false, !plain)
                    : engine.model().tokenize(render, true, !plain);
        } else { // the new message's images after the cached text, or every image when the whole text is read again
            NativeVision.Prompt p = extending
                    ? engine.projector().tokenize(render.substring(before.length()), Images.decoded(List.of(message), history.size()), false, !plain)
                    : engine.projector().tokenize(render, Images.decoded(next, 0), true, !plain);
            added = p.tokens();
            images = p.images();
        }
        List<NativeVision.Embedded> addedImages = images;
        int[] prompt = scheduler.call(() -> {
            if (extending) {
                return fit(concat(cache.tokens(), added));
            }
            cache.truncate(protectedTokens); // the template rewrote earlier text: keep the system prompt, re-read the rest
            return fit(added);
        });
        var sampler = engine.sampler(sampling, ResponseFormat.TEXT);
        Generation turn = new Generation(engine.model(), cache, sampler, prompt, sampling,
                LlamaCppEngine.stops(sampling, engine.format().stops()), engine.modelId(), engine.id(),
                new Generation.Owner() {
                    @Override
                    public boolean makeRoom(KvCache c) {
                        int droppable = c.size() - protectedTokens;
                        if (droppable < 2) {
                            return false;
                        }
                        c.dropRange(protectedTokens, droppable / 2);
                        return true;
                    }

                    @Override
                    public void finished(Generation g) {
                        history.add(message);
                        history.add(ChatMessage.assistant(g.text()));
                        renderedText = render + keepAnswerTokens(g);
                    }
                }, cache.capacity());
        turn.images = NativeVision.relocated(addedImages, added, prompt);
        scheduler.submit(turn);
        active = turn;
        return turn;
    }

    /** Waits for a turn its reader has closed or read to the end; refuses one still being read. */
    private void awaitTurn() {
        if (active != null && !active.hasEnded()) {
            if (!active.readerDone()) {
                throw new IllegalStateException("the previous turn is still running; finish or close its stream first");
            }
            active.awaitEnd();
        }
    }

    /**
     * Keeps in the cache the answer tokens whose text is a prefix of the recorded answer, ending on a
     * character boundary, and drops the rest (a stop sequence's tokens, or a last token never read
     * back). Tokens shifted out of the window while answering count as kept text. Returns the prefix.
     */
    private String keepAnswerTokens(Generation g) {
        byte[] answer = g.text().getBytes(StandardCharsets.UTF_8);
        int[] ids = g.generatedIds();
        int evaluated = g.evaluatedGeneratedTokens();
        int inCache = Math.min(evaluated, cache.size() - protectedTokens); // the newest ones
        int kept = 0;
        int bytes = 0;
        while (kept < evaluated && bytes + engine.model().piece(ids[kept]).length <= answer.length) {
            bytes += engine.model().piece(ids[kept++]).length;
        }
        while (kept > 0 && bytes < answer.length && (answer[bytes] & 0xC0) == 0x80) {
            bytes -= engine.model().piece(ids[--kept]).length;
        }
        int keptInCache = Math.max(0, inCache - (evaluated - kept));
        cache.truncate(cache.size() - (inCache - keptInCache));
        return new String(answer, 0, bytes, StandardCharsets.UTF_8);
    }

    /** Applies the overflow policy to a prompt that extends the cache; returns the prompt to evaluate. */
    private int[] fit(int[] prompt) {
        int capacity = cache.capacity();
        int reserve = Math.min(sampling.maxTokens() > 0 ? sampling.maxTokens() : capacity / 4, capacity / 4);
        int excess = prompt.length + reserve - capacity;
        if (excess <= 0) {
            return prompt;
        }
        int droppable = prompt.length - protectedTokens - 1;
        if (droppable <= 0 || prompt.length - Math.min(droppable, Math.max(excess, droppable / 2)) >= capacity) {
            throw new ContextOverflowException("message does not fit the context window of " + capacity
                    + " tokens even after dropping the conversation history");
        }
        int drop = Math.min(droppable, Math.max(excess, droppable / 2));
        int shared = 0;
        int[] cached = cache.tokens();
        while (shared < cached.length && cached[shared] == prompt[shared]) {
            shared++;
        }
        if (shared >= protectedTokens + drop) {
            cache.dropRange(protectedTokens, drop); // shift the KV cache instead of re-reading
        } else {
            cache.truncate(protectedTokens);
        }
        int[] kept = new int[prompt.length - drop];
        System.arraycopy(prompt, 0, kept, 0, protectedTokens);
        System.arraycopy(prompt, protectedTokens + drop, kept, protectedTokens, kept.length - protectedTokens);
        return kept;
    }

    @Override
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    @Override
    public ContextUsage contextUsage() {
        return scheduler.call(() -> new ContextUsage(cache.size(), cache.capacity()));
    }

    /** Tokens of the system prompt (with BOS), never dropped. */
    public int protectedTokens() {
        return protectedTokens;
    }

    @Override
    public void trim(int tokens) {
        checkOpen();
        if (tokens < 0) {
            throw new InvalidRequestException("tokens", "trim needs a number of tokens >= 0");
        }
        awaitTurn();
        scheduler.call(() -> {
            int droppable = cache.size() - protectedTokens;
            if (droppable > tokens) {
                cache.dropRange(protectedTokens, droppable - tokens);
            }
            return null;
        });
    }

    @Override
    public void clear() {
        checkOpen();
        awaitTurn();
        history.removeIf(m -> m.role() != Role.SYSTEM);
        resetToSystemPrompt();
    }

    @Override
    public void save(Path file) {
        checkOpen();
        awaitTurn();
        record Saved(int[] tokens, byte[] state) {
        }
        Saved saved = scheduler.call(() -> new Saved(cache.tokens(), cache.state()));
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            writeString(out, engine.modelId());
            out.writeInt(engine.model().vocabSize());
            out.writeInt(history.size());
            for (ChatMessage m : history) {
                writeString(out, m.role().name());
                writeString(out, m.text());
            }
            writeString(out, renderedText);
            out.writeInt(protectedTokens);
            out.writeInt(saved.tokens().length);
            for (int t : saved.tokens()) {
                out.writeInt(t);
            }
            out.writeInt(saved.state().length); // none when the cache had evicted the session: read again on its next turn
            out.write(saved.state());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save session to " + file, e);
        }
    }

    static LlamaSession restore(LlamaCppEngine engine, Path file, SamplingParams sampling) {
        LlamaSession s = new LlamaSession(engine, null, sampling);
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                throw new InvalidModelException("not a Corral session file: " + file);
            }
            String model = readString(in);
            if (!model.equals(engine.modelId()) || in.readInt() != engine.model().vocabSize()) {
                throw new InvalidModelException("session " + file + " was saved with model '" + model
                        + "', not '" + engine.modelId() + "'");
            }
            s.history.clear();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                s.history.add(ChatMessage.of(Role.valueOf(readString(in)), readString(in)));
            }
            s.renderedText = readString(in);
            s.protectedTokens = in.readInt();
            int[] tokens = new int[in.readInt()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = in.readInt();
            }
            byte[] state = in.readNBytes(in.readInt());
            s.scheduler.call(() -> {
                s.scheduler.assignStream(s.cache);
                s.cache.restore(tokens, state);
                return null;
            });
            return s;
        } catch (IOException e) {
            s.close();
            throw new InvalidModelException("cannot read session file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (64 << 20)) {
            throw new IOException("corrupt string length " + n);
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                if (active != null) {
                    active.close();
                    active.awaitEnd();
                }
                scheduler.call(() -> {
                    scheduler.release(cache);
                    return null;
                });
            } catch (io.corral.api.UnavailableException closedEngine) {
                // the engine is closed: its cache is gone with it
            } finally {
                engine.closed(this);
            }
        }
    }
}

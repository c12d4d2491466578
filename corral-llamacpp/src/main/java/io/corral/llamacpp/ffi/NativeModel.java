package io.corral.llamacpp.ffi;

import io.corral.api.InvalidModelException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static io.corral.llamacpp.ffi.Llama.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A model loaded by llama.cpp, with its vocabulary. Thread-safe; native calls hold a read lock and
 * {@link #close()} the write lock, so closing never frees the model under a running call.
 */
public final class NativeModel implements AutoCloseable {

    /** One message for {@link #applyTemplate}. */
    public record TemplateMessage(String role, String content) {
    }

    private final MemorySegment model;
    private final MemorySegment vocab;
    private final int vocabSize;
    private final byte[][] pieces; // token text cache, filled lazily
    private final boolean[] endOfGeneration;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private NativeModel(MemorySegment model) throws Throwable {
        this.model = model;
        this.vocab = (MemorySegment) Llama.model_get_vocab.invokeExact(model);
        this.vocabSize = (int) Llama.vocab_n_tokens.invokeExact(vocab);
        this.pieces = new byte[vocabSize][];
        this.endOfGeneration = new boolean[vocabSize];
        for (int t = 0; t < vocabSize; t++) {
            endOfGeneration[t] = (boolean) Llama.vocab_is_eog.invokeExact(vocab, t);
        }
    }

    /** Runs a native call unless the model is closed. */
    private <T> T read(NativeCall<T> call) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("model is closed");
            }
            return call.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    private interface NativeCall<T> {
        T run() throws Throwable;
    }

    /** Loads the weights of a GGUF file with llama.cpp's defaults (every layer on the GPU, if there is one). */
    public static NativeModel load(Path file) {
        return load(file, -1, 0, 1, false);
    }

    /**
     * Loads the weights of a GGUF file; a file llama.cpp refuses is an {@link InvalidModelException}.
     *
     * @param gpuLayers layers offloaded ({@code n_gpu_layers}; negative for all)
     * @param mainGpu   the device for the whole model when {@code splitMode} is 0
     * @param splitMode {@code enum llama_split_mode}: 0 none, 1 layer, 2 row
     * @param noGpu     offload to no device at all (an empty device list)
     */
    public static NativeModel load(Path file, int gpuLayers, int mainGpu, int splitMode, boolean noGpu) {
        LlamaLibrary.get(); // a missing library is a clear EngineException here, not a failed class init
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = (MemorySegment) Llama.model_default_params.invokeExact((SegmentAllocator) arena);
            params.set(JAVA_INT, Structs.offset(Structs.MODEL_PARAMS, "n_gpu_layers"), gpuLayers);
            params.set(JAVA_INT, Structs.offset(Structs.MODEL_PARAMS, "main_gpu"), mainGpu);
            params.set(JAVA_INT, Structs.offset(Structs.MODEL_PARAMS, "split_mode"), splitMode);
            if (noGpu) { // a NULL-terminated list with no device in it
                params.set(ADDRESS, Structs.offset(Structs.MODEL_PARAMS, "devices"),
                        arena.allocate(ADDRESS));
            }
            MemorySegment path = arena.allocateFrom(file.toAbsolutePath().toString());
            LlamaLibrary.takeRecentErrors();
            MemorySegment model = (MemorySegment) Llama.model_load_from_file.invokeExact(path, params);
            if (model.equals(MemorySegment.NULL)) {
                String why = LlamaLibrary.takeRecentErrors();
                throw new InvalidModelException("llama.cpp could not load " + file + (why.isEmpty() ? "" : ": " + why));
            }
            return new NativeModel(model);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The raw pointer, for contexts and samplers created while the model is open. */
    MemorySegment pointer() {
        return read(() -> model);
    }

    MemorySegment vocabPointer() {
        return read(() -> vocab);
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int trainedContextLength() {
        return read(() -> (int) Llama.model_n_ctx_train.invokeExact(model));
    }

    public int embeddingSize() {
        return read(() -> (int) Llama.model_n_embd.invokeExact(model));
    }

    public long parameterCount() {
        return read(() -> (long) Llama.model_n_params.invokeExact(model));
    }

    /** llama.cpp's one-line description, e.g. {@code "llama ?B all F32"}. */
    public String description() {
        return read(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(256);
                int n = (int) Llama.model_desc.invokeExact(model, buf, 256L);
                return n < 0 ? "" : buf.getString(0);
            }
        });
    }

    /** The model's own chat template ({@code tokenizer.chat_template}), or null for a base model. */
    public String chatTemplate() {
        return chatTemplate(null);
    }

    /** A named variant of the chat template ({@code tokenizer.chat_template.<name>}, e.g. {@code tool_use}), or null. */
    public String chatTemplate(String name) {
        return read(() -> {
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment n = name == null ? MemorySegment.NULL : tmp.allocateFrom(name);
                MemorySegment s = (MemorySegment) Llama.model_chat_template.invokeExact(model, n);
                return s.equals(MemorySegment.NULL) ? null : s.reinterpret(Long.MAX_VALUE).getString(0);
            }
        });
    }

    /** The text of the beginning-of-sequence token (as templates write it), or "" when there is none. */
    public String bosText() {
        return read(() -> tokenText((int) Llama.vocab_bos.invokeExact(vocab)));
    }

    /** The text of the end-of-sequence token, or "". */
    public String eosText() {
        return read(() -> tokenText((int) Llama.vocab_eos.invokeExact(vocab)));
    }

    private String tokenText(int token) throws Throwable {
        if (token < 0) {
            return "";
        }
        MemorySegment s = (MemorySegment) Llama.vocab_get_text.invokeExact(vocab, token);
        return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
    }

    public boolean addsBos() {
        return read(() -> (boolean) Llama.vocab_get_add_bos.invokeExact(vocab));
    }

    /** Whether {@code token} ends generation (end of sequence or end of turn). */
    public boolean isEndOfGeneration(int token) {
        return endOfGeneration[token];
    }

    /**
     * Text to tokens. {@code addSpecial} adds BOS (and EOS) where the model wants them;
     * {@code parseSpecial} turns special-token text such as {@code <|im_start|>} into those tokens.
     */
    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return read(() -> tokenize(bytes, addSpecial, parseSpecial));
    }

    private int[] tokenize(byte[] bytes, boolean addSpecial, boolean parseSpecial) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(bytes.length + 1L);
            MemorySegment.copy(bytes, 0, src, JAVA_BYTE, 0, bytes.length);
            int capacity = bytes.length + 8;
            MemorySegment out = arena.allocate(JAVA_INT, capacity);
            int n = (int) Llama.tokenize.invokeExact(vocab, src, bytes.length, out, capacity, addSpecial, parseSpecial);
            if (n < 0) {
                capacity = -n;
                out = arena.allocate(JAVA_INT, capacity);
                n = (int) Llama.tokenize.invokeExact(vocab, src, bytes.length, out, capacity, addSpecial, parseSpecial);
            }
            if (n < 0) {
                throw new IllegalStateException("llama_tokenize failed: " + n);
            }
            return out.asSlice(0, (long) n * Integer.BYTES).toArray(JAVA_INT);
        }
    }

    /** The UTF-8 bytes of one token (may be part of a character); special tokens render as nothing. */
    public byte[] piece(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " outside the vocabulary of " + vocabSize);
        }
        byte[] cached = pieces[token];
        if (cached != null) {
            return cached;
        }
        byte[] piece = read(() -> {
            try (Arena arena = Arena.ofConfined()) {
                int capacity = 64;
                MemorySegment buf = arena.allocate(capacity);
                int n = (int) Llama.token_to_piece.invokeExact(vocab, token, buf, capacity, 0, false);
                if (n < 0) {
                    capacity = -n;
                    buf = arena.allocate(capacity);
                    n = (int) Llama.token_to_piece.invokeExact(vocab, token, buf, capacity, 0, false);
                }
                return buf.asSlice(0, Math.max(n, 0)).toArray(JAVA_BYTE);
            }
        });
        pieces[token] = piece;
        return piece;
    }

    /**
     * Formats messages with a chat template (llama.cpp's built-in implementations of the well-known
     * templates, recognised from the template text). Returns null when llama.cpp does not know the template.
     */
    public String applyTemplate(String template, List<TemplateMessage> messages, boolean addAssistant) {
        return read(() -> applyTemplate0(template, messages, addAssistant));
    }

    private static String applyTemplate0(String template, List<TemplateMessage> messages, boolean addAssistant)
            throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chat = arena.allocate(Structs.CHAT_MESSAGE, Math.max(1, messages.size()));
            long total = 0;
            for (int i = 0; i < messages.size(); i++) {
                MemorySegment m = chat.asSlice(i * Structs.CHAT_MESSAGE.byteSize(), Structs.CHAT_MESSAGE);
                m.set(ADDRESS, 0, arena.allocateFrom(messages.get(i).role()));
                m.set(ADDRESS, ADDRESS.byteSize(), arena.allocateFrom(messages.get(i).content()));
                total += messages.get(i).content().length() + messages.get(i).role().length();
            }
            MemorySegment tmpl = arena.allocateFrom(template);
            int capacity = (int) Math.min(Integer.MAX_VALUE - 8, 2 * total + 256);
            MemorySegment buf = arena.allocate(capacity);
            int n = (int) Llama.chat_apply_template.invokeExact(tmpl, chat, (long) messages.size(), addAssistant, buf, capacity);
            if (n > capacity) {
                capacity = n;
                buf = arena.allocate(capacity);
                n = (int) Llama.chat_apply_template.invokeExact(tmpl, chat, (long) messages.size(), addAssistant, buf, capacity);
            }
            if (n < 0) {
                return null;
            }
            return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                Llama.model_free.invokeExact(model);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lock.writeLock().unlock();
        }
    }
}

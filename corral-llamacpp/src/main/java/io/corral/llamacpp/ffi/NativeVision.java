package io.corral.llamacpp.ffi;

import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.corral.llamacpp.ffi.Llama.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A model's multimodal projector (its {@code mmproj} GGUF), through llama.cpp's {@code libmtmd} (built from the
 * natives' own source by {@code corral-natives/build-mtmd.sh}). {@link #tokenize} turns a prompt whose
 * {@link #MARKER}s stand for images into the text model's tokens with the images' embeddings in their places, each
 * image encoded by the projector. Images arrive decoded (RGB, {@link Image}): the files are read in Java, so
 * {@code libmtmd}'s own image decoders never see request bytes. One encode at a time (the projector's context is
 * not thread-safe).
 */
public final class NativeVision implements AutoCloseable {

    /** What stands for an image in a prompt: mtmd's default marker. */
    public static final String MARKER = "<__media__>";

    // the ids an image's slots take in a token array: negative (never a vocabulary token), new for each image, so a
    // prompt cache never takes one image's cells for another's
    private static final AtomicInteger NEXT_IMAGE = new AtomicInteger(-1);

    private static final StructLayout PARAMS = MemoryLayout.structLayout(
            JAVA_BOOLEAN.withName("use_gpu"), MemoryLayout.paddingLayout(7),
            ADDRESS.withName("device"),
            JAVA_BOOLEAN.withName("print_timings"), MemoryLayout.paddingLayout(3),
            JAVA_INT.withName("n_threads"),
            ADDRESS.withName("image_marker"),
            ADDRESS.withName("media_marker"),
            JAVA_INT.withName("flash_attn_type"),
            JAVA_BOOLEAN.withName("warmup"), MemoryLayout.paddingLayout(3),
            JAVA_INT.withName("image_min_tokens"),
            JAVA_INT.withName("image_max_tokens"),
            ADDRESS.withName("cb_eval"),
            ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("batch_max_tokens"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"));
    private static final StructLayout INPUT_TEXT = MemoryLayout.structLayout(
            ADDRESS.withName("text"), JAVA_LONG.withName("text_len"),
            JAVA_BOOLEAN.withName("add_special"), JAVA_BOOLEAN.withName("parse_special"), MemoryLayout.paddingLayout(6));
    private static final VarHandle USE_GPU = PARAMS.varHandle(MemoryLayout.PathElement.groupElement("use_gpu"));
    private static final VarHandle N_THREADS = PARAMS.varHandle(MemoryLayout.PathElement.groupElement("n_threads"));
    private static final VarHandle WARMUP = PARAMS.varHandle(MemoryLayout.PathElement.groupElement("warmup"));
    private static final int CHUNK_TEXT = 0;
    private static final int CHUNK_IMAGE = 1;

    /** The library's functions, bound on first use. */
    private static final class Mtmd {
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LlamaLibrary.get().mtmdLibrary(), Arena.global());
        static final MethodHandle params_default = handle("mtmd_context_params_default", FunctionDescriptor.of(PARAMS));
        static final MethodHandle init_from_file = handle("mtmd_init_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, PARAMS));
        static final MethodHandle free = handle("mtmd_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle support_vision = handle("mtmd_support_vision", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS));
        static final MethodHandle use_mrope = handle("mtmd_decode_use_mrope", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS));
        static final MethodHandle use_non_causal = handle("mtmd_decode_use_non_causal", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS));
        static final MethodHandle bitmap_init = handle("mtmd_bitmap_init", FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle bitmap_free = handle("mtmd_bitmap_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle chunks_init = handle("mtmd_input_chunks_init", FunctionDescriptor.of(ADDRESS));
        static final MethodHandle chunks_size = handle("mtmd_input_chunks_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        static final MethodHandle chunks_get = handle("mtmd_input_chunks_get", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle chunks_free = handle("mtmd_input_chunks_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle chunk_type = handle("mtmd_input_chunk_get_type", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle chunk_text = handle("mtmd_input_chunk_get_tokens_text", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle chunk_n_tokens = handle("mtmd_input_chunk_get_n_tokens", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        static final MethodHandle tokenize = handle("mtmd_tokenize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle encode_chunk = handle("mtmd_encode_chunk", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle output_embd = handle("mtmd_get_output_embd", FunctionDescriptor.of(ADDRESS, ADDRESS));

        static {
            try {
                ((MethodHandle) handle("mtmd_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS)))
                        .invokeExact(LlamaLibrary.logCallback(), MemorySegment.NULL);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        private static MethodHandle handle(String name, FunctionDescriptor d) {
            return Linker.nativeLinker().downcallHandle(LOOKUP.find(name).orElseThrow(() ->
                    new EngineException("libmtmd has no function " + name + ": it is not the build of llama.cpp 0.5.0")), d);
        }
    }

    /** An image, decoded: {@code rgb} holds width x height pixels, 3 bytes each, row by row. */
    public record Image(int width, int height, byte[] rgb) {
        public Image {
            if (width <= 0 || height <= 0 || rgb.length != width * height * 3) {
                throw new IllegalArgumentException("an image of " + width + "x" + height + " needs "
                        + (long) width * height * 3 + " RGB bytes, not " + rgb.length);
            }
        }
    }

    /**
     * A prompt's tokens with its images in place: {@code tokens} holds each image's slots as its (negative) id, and
     * {@code images} the embeddings of each, in order.
     */
    public record Prompt(int[] tokens, List<Embedded> images) {
    }

    /**
     * An image's embeddings: {@code count} rows of the text model's width, to be evaluated at {@code tokens[offset..]}
     * (with non-causal attention when {@code nonCausal}).
     */
    public record Embedded(int offset, int count, float[] embeddings, boolean nonCausal) {
    }

    private final Path file;
    private final NativeModel model;
    private MemorySegment ctx;

    private NativeVision(Path file, NativeModel model, MemorySegment ctx) {
        this.file = file;
        this.model = model;
        this.ctx = ctx;
    }

    /** The projector's file. */
    public Path file() {
        return file;
    }

    /** Whether this build of Corral carries {@code libmtmd} for this platform. */
    public static boolean available() {
        return LlamaLibrary.get().mtmdLibraryPresent();
    }

    /** Loads {@code projector} for {@code model}; a file that is not a vision projector for it is a clear error. */
    public static NativeVision load(Path projector, NativeModel model, int threads, boolean gpu) {
        if (!Files.isRegularFile(projector)) {
            throw new EngineException("projector " + projector + " is not a file");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = (MemorySegment) Mtmd.params_default.invokeExact((SegmentAllocator) arena);
            USE_GPU.set(params, 0L, gpu);
            N_THREADS.set(params, 0L, threads);
            WARMUP.set(params, 0L, false);
            MemorySegment ctx = (MemorySegment) Mtmd.init_from_file.invokeExact(
                    arena.allocateFrom(projector.toString()), model.pointer(), params);
            if (ctx.equals(MemorySegment.NULL)) {
                throw new EngineException("cannot load the projector " + projector + " for this model: "
                        + LlamaLibrary.takeRecentErrors());
            }
            NativeVision v = new NativeVision(projector, model, ctx);
            if (!(boolean) Mtmd.support_vision.invokeExact(ctx)) {
                v.close();
                throw new EngineException("projector " + projector + " has no vision encoder");
            }
            if ((boolean) Mtmd.use_mrope.invokeExact(ctx)) {
                v.close();
                throw new EngineException("projector " + projector + " needs M-RoPE positions (Qwen2-VL and later),"
                        + " which Corral's in-process engine does not support yet");
            }
            return v;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Tokenizes {@code text}, in which each {@link #MARKER} stands for the next of {@code images}, and encodes each
     * image. The marker count must match the images'.
     */
    public synchronized Prompt tokenize(String text, List<Image> images, boolean addSpecial, boolean parseSpecial) {
        if (ctx == null) {
            throw new EngineException("the projector is closed");
        }
        if (count(text) != images.size()) { // the text's own copy of the marker, say
            throw new InvalidRequestException("messages", "the prompt has " + count(text) + " image places for "
                    + images.size() + " images (" + MARKER + " in a message's text stands for an image)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bitmaps = arena.allocate(ADDRESS, Math.max(1, images.size()));
            MemorySegment chunks = MemorySegment.NULL;
            try {
                for (int i = 0; i < images.size(); i++) {
                    Image im = images.get(i);
                    MemorySegment rgb = arena.allocate(im.rgb().length);
                    MemorySegment.copy(im.rgb(), 0, rgb, JAVA_BYTE, 0, im.rgb().length);
                    MemorySegment b = (MemorySegment) Mtmd.bitmap_init.invokeExact(im.width(), im.height(), rgb);
                    bitmaps.setAtIndex(ADDRESS, i, b);
                }
                MemorySegment utf8 = arena.allocateFrom(text);
                MemorySegment input = arena.allocate(INPUT_TEXT);
                input.set(ADDRESS, 0, utf8);
                input.set(JAVA_LONG, 8, utf8.byteSize() - 1);
                input.set(JAVA_BOOLEAN, 16, addSpecial);
                input.set(JAVA_BOOLEAN, 17, parseSpecial);
                chunks = (MemorySegment) Mtmd.chunks_init.invokeExact();
                int rc = (int) Mtmd.tokenize.invokeExact(ctx, chunks, input, bitmaps, (long) images.size());
                if (rc != 0) {
                    throw new InvalidRequestException("messages", "the images could not be prepared for the model: "
                            + LlamaLibrary.takeRecentErrors());
                }
                return read(chunks, arena);
            } finally {
                for (int i = 0; i < images.size(); i++) {
                    MemorySegment b = bitmaps.getAtIndex(ADDRESS, i);
                    if (!b.equals(MemorySegment.NULL)) {
                        Mtmd.bitmap_free.invokeExact(b);
                    }
                }
                if (!chunks.equals(MemorySegment.NULL)) {
                    Mtmd.chunks_free.invokeExact(chunks);
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private Prompt read(MemorySegment chunks, Arena arena) throws Throwable {
        long n = (long) Mtmd.chunks_size.invokeExact(chunks);
        int width = model.embeddingSize();
        int[] tokens = new int[0];
        int length = 0;
        List<Embedded> images = new ArrayList<>();
        MemorySegment count = arena.allocate(JAVA_LONG);
        for (long i = 0; i < n; i++) {
            MemorySegment chunk = (MemorySegment) Mtmd.chunks_get.invokeExact(chunks, i);
            int type = (int) Mtmd.chunk_type.invokeExact(chunk);
            int k = (int) (long) Mtmd.chunk_n_tokens.invokeExact(chunk);
            if (length + k > tokens.length) {
                tokens = java.util.Arrays.copyOf(tokens, Math.max(2 * tokens.length, length + k));
            }
            if (type == CHUNK_TEXT) {
                MemorySegment t = (MemorySegment) Mtmd.chunk_text.invokeExact(chunk, count);
                int m = (int) count.get(JAVA_LONG, 0);
                MemorySegment.copy(t.reinterpret((long) m * Integer.BYTES), JAVA_INT, 0, tokens, length, m);
            } else if (type == CHUNK_IMAGE) {
                if ((int) Mtmd.encode_chunk.invokeExact(ctx, chunk) != 0) {
                    throw new EngineException("the projector could not encode an image: " + LlamaLibrary.takeRecentErrors());
                }
                MemorySegment out = (MemorySegment) Mtmd.output_embd.invokeExact(ctx);
                float[] embd = out.reinterpret((long) k * width * Float.BYTES).toArray(JAVA_FLOAT);
                boolean nonCausal = (boolean) Mtmd.use_non_causal.invokeExact(ctx, chunk);
                java.util.Arrays.fill(tokens, length, length + k, NEXT_IMAGE.getAndUpdate(id -> id == Integer.MIN_VALUE ? -1 : id - 1));
                images.add(new Embedded(length, k, embd, nonCausal));
            } else {
                throw new InvalidRequestException("messages", "this model's projector takes audio, not images");
            }
            length += k;
        }
        return new Prompt(java.util.Arrays.copyOf(tokens, length), List.copyOf(images));
    }

    /**
     * {@code images}, tokenized in {@code tokens}, where they are in {@code prompt} (the tokens after a session's
     * cached ones, and its overflow policy's cut): found by their ids; an image whose first slots were cut keeps the
     * rest of its rows, one cut whole is left out.
     */
    public static List<Embedded> relocated(List<Embedded> images, int[] tokens, int[] prompt) {
        List<Embedded> out = new ArrayList<>(images.size());
        for (Embedded e : images) {
            int id = tokens[e.offset()];
            int at = -1;
            int n = 0;
            for (int i = 0; i < prompt.length; i++) {
                if (prompt[i] == id) {
                    at = at < 0 ? i : at;
                    n++;
                }
            }
            if (n == e.count()) {
                out.add(new Embedded(at, n, e.embeddings(), e.nonCausal()));
            } else if (n > 0) {
                int width = e.embeddings().length / e.count();
                out.add(new Embedded(at, n, java.util.Arrays.copyOfRange(e.embeddings(), (e.count() - n) * width,
                        e.embeddings().length), e.nonCausal()));
            }
        }
        return out;
    }

    private static int count(String text) {
        int c = 0;
        for (int i = text.indexOf(MARKER); i >= 0; i = text.indexOf(MARKER, i + 1)) {
            c++;
        }
        return c;
    }

    @Override
    public synchronized void close() {
        if (ctx != null) {
            try {
                Mtmd.free.invokeExact(ctx);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            ctx = null;
        }
    }
}

package io.corral.llamacpp.ffi;

import io.corral.api.EngineException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Finds and loads llama.cpp's shared libraries once per JVM: from {@code CORRAL_LLAMA_LIB_DIR} (or the
 * system property {@code corral.llama.lib.dir}) when set, else from the copies packaged in this jar
 * (unpacked to {@code ~/.cache/corral/natives/<hash>}). Loading picks the best CPU backend for this
 * processor ({@code ggml_backend_load_all_from_path}) and routes llama.cpp's log into
 * {@link System.Logger} {@code "llama.cpp"}; the last error lines are kept for error messages.
 */
public final class LlamaLibrary {

    private static final System.Logger LOG = System.getLogger("llama.cpp");
    // file names: node-llama-cpp's packaging first, then a plain llama.cpp build's (CORRAL_LLAMA_LIB_DIR)
    private static final List<String> LIB_LLAMA = List.of("libllama.v0.5.0.so", "libllama.so", "libllama.dylib");
    private static final List<String> LIB_GGML = List.of("libggml.v0.5.0.so", "libggml.so", "libggml.dylib");
    private static final List<String> LIB_GGML_BASE = List.of("libggml-base.so", "libggml-base.dylib");
    private static final Deque<String> RECENT_ERRORS = new ArrayDeque<>();

    private static volatile LlamaLibrary instance;

    final Path directory;
    final SymbolLookup lookup;

    private LlamaLibrary(Path directory, SymbolLookup lookup) {
        this.directory = directory;
        this.lookup = lookup;
    }

    /** The loaded library; loads it on first use. */
    public static LlamaLibrary get() {
        LlamaLibrary lib = instance;
        if (lib == null) {
            synchronized (LlamaLibrary.class) {
                lib = instance;
                if (lib == null) {
                    lib = load();
                    instance = lib;
                }
            }
        }
        return lib;
    }

    /** Where the loaded libraries are. */
    public Path directory() {
        return directory;
    }

    /** The last error lines llama.cpp logged (joined), or "" if none; cleared by the call. */
    static String takeRecentErrors() {
        synchronized (RECENT_ERRORS) {
            String s = String.join(" ", RECENT_ERRORS).strip();
            RECENT_ERRORS.clear();
            return s;
        }
    }

    private static LlamaLibrary load() {
        Path dir = libraryDirectory();
        Path llama = find(dir, LIB_LLAMA);
        Path ggml = find(dir, LIB_GGML);
        Path ggmlBase = find(dir, LIB_GGML_BASE);
        SymbolLookup lookup;
        try {
            Arena global = Arena.global();
            lookup = SymbolLookup.libraryLookup(llama, global)
                    .or(SymbolLookup.libraryLookup(ggml, global))
                    .or(SymbolLookup.libraryLookup(ggmlBase, global));
        } catch (IllegalArgumentException e) {
            throw new EngineException("cannot load llama.cpp from " + dir + ": " + e.getMessage(), e);
        }
        LlamaLibrary lib = new LlamaLibrary(dir, lookup);
        Linker linker = Linker.nativeLinker();
        try {
            MethodHandle onLog = MethodHandles.lookup().findStatic(LlamaLibrary.class, "onLog",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment callback = linker.upcallStub(onLog,
                    FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            linker.downcallHandle(lookup.findOrThrow("llama_log_set"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS))
                    .invokeExact(callback, MemorySegment.NULL);
            try (Arena arena = Arena.ofConfined()) {
                linker.downcallHandle(lookup.findOrThrow("ggml_backend_load_all_from_path"),
                                FunctionDescriptor.ofVoid(ADDRESS))
                        .invokeExact(arena.allocateFrom(dir.toString()));
            }
            linker.downcallHandle(lookup.findOrThrow("llama_backend_init"), FunctionDescriptor.ofVoid()).invokeExact();
            long devices = (long) linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_count"),
                    FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_LONG)).invokeExact();
            if (devices == 0) {
                throw new EngineException("llama.cpp found no CPU backend for this processor in " + dir + ": "
                        + takeRecentErrors());
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new EngineException("cannot initialise llama.cpp: " + t, t);
        }
        return lib;
    }

    private static Path find(Path dir, List<String> names) {
        return names.stream().map(dir::resolve).filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new EngineException("llama.cpp library " + names.getFirst() + " not found in "
                        + dir + " (set CORRAL_LLAMA_LIB_DIR to a folder with a llama.cpp 0.5.0 build)"));
    }

    private static Path libraryDirectory() {
        String configured = System.getProperty("corral.llama.lib.dir", System.getenv("CORRAL_LLAMA_LIB_DIR"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String platform = platform();
        String base = "/natives/" + platform + "/";
        try (InputStream index = LlamaLibrary.class.getResourceAsStream(base + "files.txt")) {
            if (index == null) {
                throw new EngineException("this Corral build has no llama.cpp libraries for " + platform
                        + "; set CORRAL_LLAMA_LIB_DIR to a llama.cpp 0.5.0 build");
            }
            List<String> files = new String(index.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(s -> !s.isBlank()).toList();
            return unpack(base, files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the packaged libraries to a cache folder named by their content hash. */
    private static Path unpack(String base, List<String> files) throws IOException {
        MessageDigest digest = sha256();
        for (String f : files) {
            try (InputStream in = LlamaLibrary.class.getResourceAsStream(base + f)) {
                digest.update(f.getBytes(StandardCharsets.UTF_8));
                digest.update(in.readAllBytes());
            }
        }
        String hash = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        Path cache = Path.of(System.getProperty("corral.cache",
                System.getProperty("user.home") + "/.cache/corral"), "natives", hash);
        if (Files.isRegularFile(cache.resolve(".complete"))) {
            return cache;
        }
        Files.createDirectories(cache);
        for (String f : files) {
            Path tmp = Files.createTempFile(cache, f, ".part");
            try (InputStream in = LlamaLibrary.class.getResourceAsStream(base + f)) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, cache.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.writeString(cache.resolve(".complete"), "ok");
        return cache;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "mac" : os.contains("win") ? "win" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch.equals("aarch64") ? "arm64" : arch;
        return o + "-" + a;
    }

    // ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continuation
    private static void onLog(int level, MemorySegment text, MemorySegment userData) {
        String line = text.reinterpret(Long.MAX_VALUE).getString(0).stripTrailing();
        if (line.isEmpty()) {
            return;
        }
        if (level == 4) {
            synchronized (RECENT_ERRORS) {
                RECENT_ERRORS.addLast(line);
                while (RECENT_ERRORS.size() > 4) {
                    RECENT_ERRORS.removeFirst();
                }
            }
        }
        System.Logger.Level l = switch (level) {
            case 3 -> System.Logger.Level.DEBUG;
            case 4 -> System.Logger.Level.WARNING;
            default -> System.Logger.Level.TRACE;
        };
        LOG.log(l, line);
    }
}

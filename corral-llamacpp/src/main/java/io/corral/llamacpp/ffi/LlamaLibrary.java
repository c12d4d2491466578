package io.corral.llamacpp.ffi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EngineException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Finds and loads llama.cpp's shared libraries once per JVM. They come from {@code CORRAL_LLAMA_LIB_DIR} (or the
 * system property {@code corral.llama.lib.dir}) when set, else from the {@code corral-natives} artifacts on the
 * class path: this platform's CPU variant and any GPU variant beside it ({@code -cuda}, {@code -vulkan},
 * {@code -metal}), each unpacked to {@code ~/.cache/corral/natives/<hash>} with every file checked against the
 * sha256 its artifact lists. Each GPU variant's backend is tried in turn (opened, asked for its devices); the first
 * that finds a device wins; one that cannot open (no CUDA runtime, no Vulkan loader) or finds no device is absent,
 * and llama.cpp runs on the CPU, said in one log line. The library's llama.cpp release must be one whose C API the
 * binding speaks ({@link #RELEASES}); another is refused with a clear message. llama.cpp's log goes to
 * {@link System.Logger} {@code "llama.cpp"}; the last error lines are kept for error messages.
 */
public final class LlamaLibrary {

    /** The llama.cpp releases whose {@code llama.h} the binding's layouts and functions match. */
    public static final Set<String> RELEASES = Set.of("0.4.0", "0.5.0");
    /** GPU variants, best first: a variant's name is the platform's and this suffix. */
    private static final List<String> GPUS = List.of("cuda", "vulkan", "metal");

    private static final System.Logger LOG = System.getLogger("llama.cpp");
    private static final System.Logger CORRAL_LOG = System.getLogger("corral.llamacpp");
    private static final Pattern LIB_LLAMA = Pattern.compile("(?:lib)?llama(?:\\.[a-z]+)?(?:\\.v(\\d+\\.\\d+\\.\\d+))?\\.(?:so|dylib|dll)");
    private static final Pattern LIB_GGML = Pattern.compile("(?:lib)?ggml(?:\\.[a-z]+)?(?:\\.v\\d+\\.\\d+\\.\\d+)?\\.(?:so|dylib|dll)");
    private static final Pattern LIB_GGML_BASE = Pattern.compile("(?:lib)?ggml-base\\.(?:so|dylib|dll)");
    private static final Deque<String> RECENT_ERRORS = new ArrayDeque<>();

    private static final Pattern LIB_MTMD = Pattern.compile("(?:lib)?mtmd\\.(?:so|dylib|dll)");
    private static volatile LlamaLibrary instance;
    private static volatile MemorySegment logCallback;

    final Path directory;
    final SymbolLookup lookup;
    private final Backends backends;

    /**
     * What the loaded library runs on.
     *
     * @param variant  the natives' variant ({@code linux-x64-cuda}) or the directory's name
     * @param release  the llama.cpp release, or "" when a plain build does not say
     * @param backend  {@code cuda}, {@code vulkan}, {@code metal} or {@code cpu}: where offloaded layers go
     * @param devices  llama.cpp's devices, GPUs first
     * @param fallback why no GPU is used although a GPU variant is present ("" when one is, or none is present)
     */
    public record Backends(String variant, String release, String backend, List<Device> devices, String fallback) {
        /** The devices layers can be offloaded to. */
        public List<Device> gpus() {
            return devices.stream().filter(Device::gpu).toList();
        }
    }

    /** One of llama.cpp's devices; memory in bytes as the backend reports it. */
    public record Device(String name, String description, String type, long freeBytes, long totalBytes) {
        public boolean gpu() {
            return type.equals("gpu") || type.equals("igpu");
        }
    }

    private LlamaLibrary(Path directory, SymbolLookup lookup, Backends backends) {
        this.directory = directory;
        this.lookup = lookup;
        this.backends = backends;
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

    /**
     * llama.cpp's multimodal library ({@code libmtmd}, built from the same source): beside the libraries loaded, linked
     * to them by their names (each variant has its own build: another variant's would load a second llama.cpp).
     */
    public Path mtmdLibrary() {
        return findOptional(directory, LIB_MTMD).orElseThrow(() -> new EngineException("this Corral's llama.cpp natives ("
                + backends.variant() + ") have no multimodal library (libmtmd, built for the linux-x64 variants by"
                + " corral-natives/build-mtmd.sh): images cannot be read in-process here"));
    }

    /** Whether {@link #mtmdLibrary()} finds one. */
    public boolean mtmdLibraryPresent() {
        return findOptional(directory, LIB_MTMD).isPresent();
    }

    /** The upcall that passes llama.cpp's log lines to {@link System.Logger} {@code "llama.cpp"}. */
    static MemorySegment logCallback() {
        get();
        return logCallback;
    }

    /** The variant loaded and its devices, with free memory as it was when the library loaded. */
    public Backends backends() {
        return backends;
    }

    /** The devices with their free memory now. */
    public List<Device> devices() {
        return listDevices(lookup);
    }

    /** The last error lines llama.cpp logged (joined), or "" if none; cleared by the call. */
    static String takeRecentErrors() {
        synchronized (RECENT_ERRORS) {
            String s = String.join(" ", RECENT_ERRORS).strip();
            RECENT_ERRORS.clear();
            return s;
        }
    }

    /** A folder of natives: its variant name and the GPU backend it carries (null for the CPU only). */
    record Variant(String name, Path dir, String gpu) {
    }

    /** What trying a variant's GPU backend found: the library that opened (or null), its devices, or why none. */
    record Probe(Path library, long devices, String reason) {
        boolean found() {
            return devices > 0;
        }
    }

    private static LlamaLibrary load() {
        List<Variant> variants = variants();
        Variant chosen = null;
        Path gpuLibrary = null;
        List<String> absent = new ArrayList<>();
        Variant opened = null;
        for (Variant v : variants) {
            if (v.gpu() == null) {
                continue;
            }
            Probe p = probe(v);
            if (p.found()) {
                chosen = v;
                gpuLibrary = p.library();
                break;
            }
            absent.add(v.gpu() + ": " + p.reason());
            if (p.library() != null && opened == null) {
                opened = v; // its ggml-base is loaded now: run from this variant rather than load a second copy
            }
        }
        if (chosen == null) {
            chosen = opened != null ? opened
                    : variants.stream().filter(v -> v.gpu() == null).findFirst().orElse(variants.getFirst());
        }
        LlamaLibrary lib = open(chosen, gpuLibrary, String.join("; ", absent));
        Backends b = lib.backends;
        String gpus = b.gpus().stream().map(d -> "%s %s (%s free)".formatted(d.name(), d.description(),
                bytes(d.freeBytes()))).reduce((x, y) -> x + ", " + y).orElse("");
        if (!gpus.isEmpty()) {
            CORRAL_LOG.log(System.Logger.Level.INFO, "llama.cpp %s (%s): %s".formatted(b.release(), b.variant(), gpus));
        } else if (!b.fallback().isEmpty()) {
            CORRAL_LOG.log(System.Logger.Level.INFO, "llama.cpp %s: no GPU (%s); running on the CPU"
                    .formatted(b.release(), b.fallback()));
        }
        return lib;
    }

    private static LlamaLibrary open(Variant v, Path gpuLibrary, String absent) {
        Path dir = v.dir();
        Path llama = find(dir, LIB_LLAMA);
        String release = release(v, llama);
        if (!release.isEmpty() && !RELEASES.contains(release)) {
            throw new EngineException("llama.cpp " + release + " in " + dir + " is not a release this Corral binds (its"
                    + " C API is llama.cpp's " + String.join(" or ", RELEASES.stream().sorted().toList())
                    + "); use the corral-natives artifact of this Corral version");
        }
        Path ggml = find(dir, LIB_GGML);
        Path ggmlBase = find(dir, LIB_GGML_BASE);
        SymbolLookup lookup;
        try {
            Arena global = Arena.global();
            // dependencies first, so that each is found already loaded wherever the loader would not look
            SymbolLookup base = SymbolLookup.libraryLookup(ggmlBase, global);
            SymbolLookup registry = SymbolLookup.libraryLookup(ggml, global);
            lookup = SymbolLookup.libraryLookup(llama, global).or(registry).or(base);
        } catch (IllegalArgumentException e) {
            throw new EngineException("cannot load llama.cpp from " + dir + ": " + e.getMessage(), e);
        }
        Linker linker = Linker.nativeLinker();
        try {
            MethodHandle onLog = MethodHandles.lookup().findStatic(LlamaLibrary.class, "onLog",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment callback = linker.upcallStub(onLog,
                    FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            logCallback = callback;
            linker.downcallHandle(lookup.findOrThrow("llama_log_set"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS))
                    .invokeExact(callback, MemorySegment.NULL);
            try (Arena arena = Arena.ofConfined()) {
                linker.downcallHandle(lookup.findOrThrow("ggml_backend_load_all_from_path"),
                                FunctionDescriptor.ofVoid(ADDRESS))
                        .invokeExact(arena.allocateFrom(dir.toString()));
                if (gpuLibrary != null && !gpuLibrary.getParent().equals(dir)) { // a fallback build of the backend
                    MemorySegment reg = (MemorySegment) linker.downcallHandle(lookup.findOrThrow("ggml_backend_load"),
                            FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(arena.allocateFrom(gpuLibrary.toString()));
                    if (reg.equals(MemorySegment.NULL)) {
                        throw new EngineException("llama.cpp could not load " + gpuLibrary + ": " + takeRecentErrors());
                    }
                }
            }
            linker.downcallHandle(lookup.findOrThrow("llama_backend_init"), FunctionDescriptor.ofVoid()).invokeExact();
            checkLayouts(lookup, dir);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new EngineException("cannot initialise llama.cpp: " + t, t);
        }
        List<Device> devices = listDevices(lookup);
        if (devices.isEmpty()) {
            throw new EngineException("llama.cpp found no CPU backend for this processor in " + dir + ": "
                    + takeRecentErrors());
        }
        boolean gpu = devices.stream().anyMatch(Device::gpu);
        String fallback = gpu ? "" : v.gpu() == null ? absent
                : absent.isEmpty() ? v.gpu() + ": no device" : absent;
        String backend = gpu ? Optional.ofNullable(v.gpu()).orElse(devices.getFirst().name().replaceAll("\\d+$", "")
                .toLowerCase(Locale.ROOT)) : "cpu";
        return new LlamaLibrary(dir, lookup, new Backends(v.name(), release, backend, devices, fallback));
    }

    /**
     * Reads the default parameters llama.cpp hands out and checks a few fields whose values are known: a library
     * whose structs are laid out differently from the binding's reads garbage there, and is refused.
     */
    private static void checkLayouts(SymbolLookup lookup, Path dir) throws Throwable {
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = (MemorySegment) linker.downcallHandle(lookup.findOrThrow("llama_context_default_params"),
                    FunctionDescriptor.of(Structs.CONTEXT_PARAMS)).invokeExact((SegmentAllocator) arena);
            MemorySegment m = (MemorySegment) linker.downcallHandle(lookup.findOrThrow("llama_model_default_params"),
                    FunctionDescriptor.of(Structs.MODEL_PARAMS)).invokeExact((SegmentAllocator) arena);
            int nCtx = c.get(JAVA_INT, Structs.offset(Structs.CONTEXT_PARAMS, "n_ctx"));
            int nSeq = c.get(JAVA_INT, Structs.offset(Structs.CONTEXT_PARAMS, "n_seq_max"));
            int ubatch = c.get(JAVA_INT, Structs.offset(Structs.CONTEXT_PARAMS, "n_ubatch"));
            MemorySegment devices = m.get(ADDRESS, Structs.offset(Structs.MODEL_PARAMS, "devices"));
            int mainGpu = m.get(JAVA_INT, Structs.offset(Structs.MODEL_PARAMS, "main_gpu"));
            if (nCtx != 512 || nSeq != 1 || ubatch != 512 || !devices.equals(MemorySegment.NULL) || mainGpu != 0) {
                throw new EngineException("llama.cpp in " + dir + " lays out its parameters differently from the"
                        + " llama.cpp " + String.join(" or ", RELEASES.stream().sorted().toList())
                        + " this Corral binds (default n_ctx " + nCtx + ", n_seq_max " + nSeq + ", n_ubatch " + ubatch
                        + ", main_gpu " + mainGpu + "); use the corral-natives artifact of this Corral version");
            }
        }
    }

    private static List<Device> listDevices(SymbolLookup lookup) {
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            long count = (long) linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_count"),
                    FunctionDescriptor.of(JAVA_LONG)).invokeExact();
            MethodHandle get = linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_get"),
                    FunctionDescriptor.of(ADDRESS, JAVA_LONG));
            MethodHandle name = linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_name"),
                    FunctionDescriptor.of(ADDRESS, ADDRESS));
            MethodHandle description = linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_description"),
                    FunctionDescriptor.of(ADDRESS, ADDRESS));
            MethodHandle type = linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_type"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle memory = linker.downcallHandle(lookup.findOrThrow("ggml_backend_dev_memory"),
                    FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
            List<Device> devices = new ArrayList<>();
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            for (long i = 0; i < count; i++) {
                MemorySegment dev = (MemorySegment) get.invokeExact(i);
                int t = (int) type.invokeExact(dev);
                free.set(JAVA_LONG, 0, 0);
                total.set(JAVA_LONG, 0, 0);
                memory.invokeExact(dev, free, total);
                devices.add(new Device(string((MemorySegment) name.invokeExact(dev)),
                        string((MemorySegment) description.invokeExact(dev)),
                        switch (t) { // enum ggml_backend_dev_type
                            case 0 -> "cpu";
                            case 1 -> "gpu";
                            case 2 -> "igpu";
                            case 3 -> "accel";
                            default -> "other";
                        }, free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)));
            }
            devices.sort((a, b) -> Boolean.compare(b.gpu(), a.gpu()));
            return List.copyOf(devices);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new EngineException("cannot list llama.cpp's devices: " + t, t);
        }
    }

    /**
     * Opens a variant's GPU backend by itself and asks it for its devices, before anything of llama.cpp is loaded:
     * the backend's main build, then the fallback build beside it ({@code fallback/}, CUDA's previous major version).
     */
    static Probe probe(Variant v) {
        List<Path> candidates = Stream.of(v.dir(), v.dir().resolve("fallback"))
                .map(d -> findOptional(d, Pattern.compile("(?:lib)?ggml-" + v.gpu() + "\\.(?:so|dylib|dll)")))
                .flatMap(Optional::stream).toList();
        if (candidates.isEmpty()) {
            return new Probe(null, 0, "no " + v.gpu() + " backend in " + v.dir());
        }
        Path opened = null;
        String reason = "";
        for (Path candidate : candidates) {
            Dl.Opened o = Dl.open(candidate);
            if (o.lookup() == null) {
                reason = o.error();
                continue;
            }
            opened = candidate;
            try {
                Linker linker = Linker.nativeLinker();
                MemorySegment reg = (MemorySegment) linker.downcallHandle(o.lookup().findOrThrow("ggml_backend_init"),
                        FunctionDescriptor.of(ADDRESS)).invokeExact();
                if (reg.equals(MemorySegment.NULL)) {
                    reason = "the backend did not start";
                    continue;
                }
                SymbolLookup base = SymbolLookup.libraryLookup(find(v.dir(), LIB_GGML_BASE), Arena.global());
                long count = (long) linker.downcallHandle(base.findOrThrow("ggml_backend_reg_dev_count"),
                        FunctionDescriptor.of(JAVA_LONG, ADDRESS)).invokeExact(reg);
                if (count > 0) {
                    return new Probe(candidate, count, "");
                }
                reason = "no device";
            } catch (Throwable t) {
                reason = t.toString();
            }
        }
        return new Probe(opened, 0, reason);
    }

    /** Where llama.cpp's libraries are: the configured directory, or each natives variant on the class path. */
    private static List<Variant> variants() {
        String configured = System.getProperty("corral.llama.lib.dir", System.getenv("CORRAL_LLAMA_LIB_DIR"));
        if (configured != null && !configured.isBlank()) {
            Path dir = Path.of(configured);
            String gpu = GPUS.stream().filter(g -> findOptional(dir, Pattern.compile("(?:lib)?ggml-" + g
                    + "\\.(?:so|dylib|dll)")).isPresent()).findFirst().orElse(null);
            return List.of(new Variant(dir.getFileName() == null ? dir.toString() : dir.getFileName().toString(), dir, gpu));
        }
        String platform = platform();
        String only = System.getProperty("corral.natives", System.getenv("CORRAL_NATIVES"));
        List<String> allowed = only == null || only.isBlank() ? null : Arrays.stream(only.split(",")).map(String::strip).toList();
        List<Variant> found = new ArrayList<>();
        for (String gpu : GPUS) {
            String name = platform + "-" + gpu;
            if ((allowed == null || allowed.contains(name)) && packaged(name)) {
                Path dir = unpack(name);
                if (packaged(name + "-ext")) { // the CUDA backend for the previous major version, tried second
                    unpack(name + "-ext", dir.resolve("fallback"));
                }
                found.add(new Variant(name, dir, gpu));
            }
        }
        if ((allowed == null || allowed.contains(platform)) && packaged(platform)) {
            found.add(new Variant(platform, unpack(platform), null));
        }
        if (found.isEmpty()) {
            throw new EngineException("this Corral has no llama.cpp libraries for " + platform
                    + (allowed == null ? "" : " among corral.natives=" + only)
                    + ": put the corral-natives artifact for " + platform
                    + " on the class path, or set CORRAL_LLAMA_LIB_DIR to a llama.cpp 0.5.0 build");
        }
        return found;
    }

    private static boolean packaged(String variant) {
        return LlamaLibrary.class.getResource("/natives/" + variant + "/files.txt") != null;
    }

    /** The release a variant says (build.json), or its library's file name does; "" when neither does. */
    private static String release(Variant v, Path llama) {
        Path build = v.dir().resolve("build.json");
        if (Files.isRegularFile(build)) {
            try {
                JsonNode node = new ObjectMapper().readTree(build.toFile());
                String r = node.path("buildOptions").path("llamaCpp").path("release").asText("");
                if (!r.isEmpty()) {
                    return r.replaceFirst("^v", "");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Matcher m = LIB_LLAMA.matcher(llama.getFileName().toString());
        return m.matches() && m.group(1) != null ? m.group(1) : "";
    }

    private static Path find(Path dir, Pattern name) {
        return findOptional(dir, name).orElseThrow(() -> new EngineException("llama.cpp library " + name.pattern()
                + " not found in " + dir + " (set CORRAL_LLAMA_LIB_DIR to a folder with a llama.cpp 0.5.0 build)"));
    }

    private static Optional<Path> findOptional(Path dir, Pattern name) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> name.matcher(f.getFileName().toString()).matches() && Files.isRegularFile(f))
                    .sorted().findFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path unpack(String variant) {
        return unpack(variant, null);
    }

    /**
     * Copies a packaged variant to a cache folder named by its index (which lists every file's sha256), checking
     * each file as it lands; into {@code into} instead when given (an extension of another variant).
     */
    private static Path unpack(String variant, Path into) {
        String base = "/natives/" + variant + "/";
        try (InputStream index = LlamaLibrary.class.getResourceAsStream(base + "files.txt")) {
            byte[] indexBytes = index.readAllBytes();
            List<String[]> files = new String(indexBytes, StandardCharsets.UTF_8).lines().filter(s -> !s.isBlank())
                    .map(l -> l.split(" +\\*?", 2)).toList();
            Path dir = into;
            if (dir == null) {
                String hash = HexFormat.of().formatHex(sha256().digest(indexBytes)).substring(0, 16);
                dir = Path.of(System.getProperty("corral.cache", System.getProperty("user.home") + "/.cache/corral"),
                        "natives", variant + "-" + hash);
            }
            if (Files.isRegularFile(dir.resolve(".complete"))) {
                return dir;
            }
            Files.createDirectories(dir);
            for (String[] f : files) {
                Path tmp = Files.createTempFile(dir, f[1], ".part");
                MessageDigest digest = sha256();
                try (InputStream in = LlamaLibrary.class.getResourceAsStream(base + f[1])) {
                    if (in == null) {
                        throw new EngineException("natives " + variant + " list " + f[1] + " but do not hold it");
                    }
                    Files.copy(new java.security.DigestInputStream(in, digest), tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                String actual = HexFormat.of().formatHex(digest.digest());
                if (!actual.equals(f[0])) {
                    Files.deleteIfExists(tmp);
                    throw new EngineException("natives " + variant + ": " + f[1] + " has sha256 " + actual
                            + ", not the " + f[0] + " its artifact lists");
                }
                Files.move(tmp, dir.resolve(f[1]), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            for (String extra : List.of("build.json")) {
                try (InputStream in = LlamaLibrary.class.getResourceAsStream(base + extra)) {
                    if (in != null) {
                        Files.copy(in, dir.resolve(extra), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(dir.resolve(".complete"), "ok");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    static String bytes(long n) {
        return n >= 1L << 30 ? "%.1f GiB".formatted(n / (double) (1L << 30)) : "%d MiB".formatted(n >> 20);
    }

    private static String string(MemorySegment s) {
        return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
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

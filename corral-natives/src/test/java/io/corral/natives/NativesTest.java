package io.corral.natives;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each artifact carries its own platform's libraries: every file is an ELF, Mach-O or PE image for the variant's
 * operating system and processor (read from its header), matches the sha256 in its {@code files.txt}, and the
 * set holds llama, ggml and ggml-base of a llama.cpp release the binding speaks, built for the variant's GPU.
 */
class NativesTest {

    private static final Path STAGED = Path.of(System.getProperty("natives.dir", "target/natives"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"linux-x64", "linux-x64-cuda", "linux-x64-vulkan", "linux-arm64", "mac-arm64-metal",
            "mac-x64", "win-x64", "win-x64-vulkan", "win-arm64"})
    void artifactHoldsItsPlatformsLibraries(String variant) throws Exception {
        Path dir = STAGED.resolve(variant).resolve("natives").resolve(variant);
        List<String[]> files = index(dir);
        assertThat(files).as("files.txt of %s", variant).isNotEmpty();
        for (String[] entry : files) {
            Path file = dir.resolve(entry[1]);
            assertThat(sha256(file)).as("sha256 of %s", file).isEqualTo(entry[0]);
            assertThat(Image.of(file)).as("header of %s", file).isEqualTo(expected(variant));
        }
        List<String> names = files.stream().map(e -> e[1]).toList();
        assertThat(names).anyMatch(n -> n.matches("(lib)?llama(\\.[a-z]+)?\\.v\\d+\\.\\d+\\.\\d+\\.(so|dylib|dll)"))
                .anyMatch(n -> n.matches("(lib)?ggml(\\.[a-z]+)?\\.v\\d+\\.\\d+\\.\\d+\\.(so|dylib|dll)"))
                .anyMatch(n -> n.matches("(lib)?ggml-base\\.(so|dylib|dll)"))
                .anyMatch(n -> n.startsWith("libggml-cpu") || n.startsWith("ggml-cpu"));
        String gpu = variant.replaceFirst("^[a-z]+-[a-z0-9]+-?", "");
        if (!gpu.isEmpty()) {
            assertThat(names).as("the %s backend", gpu).anyMatch(n -> n.matches("(lib)?ggml-" + gpu + "\\.(so|dylib|dll)"));
        }
        JsonNode build = JSON.readTree(dir.resolve("build.json").toFile()).path("buildOptions");
        assertThat(build.path("llamaCpp").path("release").asText()).isIn("v0.4.0", "v0.5.0");
        assertThat(build.path("gpu").asText()).isEqualTo(gpu.isEmpty() ? "false" : gpu);
        assertThat(build.path("platform").asText() + "-" + build.path("arch").asText())
                .isEqualTo(variant.replaceFirst("^([a-z]+-[a-z0-9]+).*", "$1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-x64-cuda-ext", "win-x64-cuda", "win-x64-cuda-ext"})
    void largeCudaArtifactsHoldTheirPlatformsLibrariesWhenBuilt(String variant) throws Exception {
        Path dir = STAGED.resolve(variant).resolve("natives").resolve(variant);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(dir), "built with -Pall-natives only");
        for (String[] entry : index(dir)) {
            Path file = dir.resolve(entry[1]);
            assertThat(sha256(file)).isEqualTo(entry[0]);
            assertThat(Image.of(file)).isEqualTo(expected(variant));
            assertThat(entry[1]).contains("cuda");
        }
    }

    @org.junit.jupiter.api.Test
    void headerReaderTellsFormatsAndProcessorsApart() throws IOException {
        Path dir = Files.createTempDirectory("headers");
        ByteBuffer elf = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        elf.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1}).putShort(18, (short) 183);
        Files.write(dir.resolve("a.so"), elf.array());
        assertThat(Image.of(dir.resolve("a.so"))).isEqualTo(new Image("elf", "arm64"));
        ByteBuffer pe = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        pe.put(0, (byte) 'M').put(1, (byte) 'Z').putInt(0x3c, 0x80).putInt(0x80, 0x00004550).putShort(0x84, (short) 0x8664);
        Files.write(dir.resolve("a.dll"), pe.array());
        assertThat(Image.of(dir.resolve("a.dll"))).isEqualTo(new Image("pe", "x64"));
        Files.write(dir.resolve("text.so"), "not a library".getBytes());
        assertThat(Image.of(dir.resolve("text.so"))).isEqualTo(new Image("unknown", "unknown"));
    }

    private static Image expected(String variant) {
        String format = variant.startsWith("linux") ? "elf" : variant.startsWith("mac") ? "mach-o" : "pe";
        return new Image(format, variant.split("-")[1]);
    }

    private static List<String[]> index(Path dir) throws IOException {
        try (Stream<String> lines = Files.lines(dir.resolve("files.txt"))) {
            return lines.filter(l -> !l.isBlank()).map(l -> l.split(" +\\*?", 2)).toList();
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** An executable image's format and processor, from its first bytes. */
    record Image(String format, String arch) {
        static Image of(Path file) throws IOException {
            byte[] head = new byte[4096];
            int n;
            try (var in = Files.newInputStream(file)) {
                n = in.readNBytes(head, 0, head.length);
            }
            ByteBuffer b = ByteBuffer.wrap(head, 0, n).order(ByteOrder.LITTLE_ENDIAN);
            if (n >= 20 && b.getInt(0) == 0x464c457f) { // \x7fELF
                return new Image("elf", switch (b.getShort(18)) {
                    case 62 -> "x64";
                    case 183 -> "arm64";
                    default -> "machine " + b.getShort(18);
                });
            }
            if (n >= 8 && b.getInt(0) == 0xfeedfacf) { // 64-bit Mach-O, little-endian
                return new Image("mach-o", machO(b.getInt(4)));
            }
            if (n >= 8 && b.order(ByteOrder.BIG_ENDIAN).getInt(0) == 0xcafebabe) { // universal: every slice
                int count = b.getInt(4);
                String arch = null;
                for (int i = 0; i < count; i++) {
                    String a = machO(b.getInt(8 + 20 * i));
                    arch = arch == null || arch.equals(a) ? a : "universal";
                }
                return new Image("mach-o", arch);
            }
            b.order(ByteOrder.LITTLE_ENDIAN);
            if (n >= 0x40 && head[0] == 'M' && head[1] == 'Z') {
                int pe = b.getInt(0x3c);
                if (pe + 6 <= n && b.getInt(pe) == 0x00004550) {
                    return new Image("pe", switch (b.getShort(pe + 4) & 0xffff) {
                        case 0x8664 -> "x64";
                        case 0xaa64 -> "arm64";
                        default -> "machine " + Integer.toHexString(b.getShort(pe + 4) & 0xffff);
                    });
                }
            }
            return new Image("unknown", "unknown");
        }

        private static String machO(int cpuType) {
            return switch (cpuType) {
                case 0x01000007 -> "x64";
                case 0x0100000c -> "arm64";
                default -> "cpu " + Integer.toHexString(cpuType);
            };
        }
    }
}

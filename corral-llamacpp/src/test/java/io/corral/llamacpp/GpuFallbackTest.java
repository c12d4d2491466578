package io.corral.llamacpp;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CUDA and Vulkan natives on a machine with no GPU (these tests' machines): each loads, its backend is tried and
 * found absent (no CUDA runtime; the Vulkan loader with no device), and Corral runs the model on the CPU with the
 * reference text and one log line saying why. Each case runs in a JVM of its own, as the library loads once per JVM.
 */
@EnabledOnOs(value = OS.LINUX, architectures = "amd64")
class GpuFallbackTest {

    private static final Path VULKAN_LOADER = Path.of("/usr/lib/x86_64-linux-gnu/libvulkan.so.1");

    @TempDir
    static Path cache;

    @BeforeAll
    static void variantsAreOnTheClassPath() {
        assertThat(GpuFallbackTest.class.getResource("/natives/linux-x64-cuda/files.txt")).isNotNull();
        assertThat(GpuFallbackTest.class.getResource("/natives/linux-x64-vulkan/files.txt")).isNotNull();
    }

    @Test
    void everyVariantPresent_noDevice_runsOnTheCpuWithOneLogLine() throws Exception {
        Run run = probe(List.of());
        assertThat(run.out()).containsEntry("backend", "cpu").containsEntry("gpus", "0").containsEntry("release", "0.5.0")
                .containsEntry("device", "CPU").containsEntry("gpu_layers", "0");
        assertThat(run.out().get("fallback")).contains("cuda: lib").contains("vulkan: ");
        assertThat(run.out().get("text")).isNotEmpty().satisfies(t -> assertThat(TestModels.REFERENCE).startsWith(t));
        assertThat(run.err().lines().filter(l -> l.contains("no GPU (") && l.endsWith("running on the CPU")))
                .as("one log line says why").hasSize(1);
    }

    @Test
    void cudaNatives_withoutTheCudaRuntime_runOnTheCpu() throws Exception {
        Run run = probe(List.of("-Dcorral.natives=linux-x64-cuda"));
        assertThat(run.out()).containsEntry("variant", "linux-x64-cuda").containsEntry("backend", "cpu")
                .containsEntry("device", "CPU");
        // libggml-cuda.so needs libcudart/libcublas 13 and the driver's libcuda.so.1: the loader's own message names one
        assertThat(run.out().get("fallback")).matches("cuda: libcu[a-z]+\\.so[.0-9]*: cannot open shared object file.*");
        assertThat(TestModels.REFERENCE).startsWith(run.out().get("text"));
        assertThat(run.out().get("text")).isNotEmpty();
    }

    @Test
    void vulkanNatives_withNoDevice_runOnTheCpu() throws Exception {
        Run run = probe(List.of("-Dcorral.natives=linux-x64-vulkan"));
        assertThat(run.out()).containsEntry("variant", "linux-x64-vulkan").containsEntry("backend", "cpu");
        // with the Vulkan loader installed (./build test installs libvulkan1) the backend loads and finds no device
        assertThat(run.out().get("fallback")).isEqualTo(Files.exists(VULKAN_LOADER) ? "vulkan: no device"
                : "vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory");
        assertThat(run.out().get("text")).isNotEmpty().satisfies(t -> assertThat(TestModels.REFERENCE).startsWith(t));
    }

    @Test
    void aReleaseTheBindingDoesNotSpeak_isRefused(@TempDir Path dir) throws Exception {
        Path cpu = unpacked("linux-x64");
        try (var files = Files.list(cpu)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".so")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("build.json"), "{\"buildOptions\":{\"llamaCpp\":{\"release\":\"v0.9.0\"}}}");
        Run run = probe(List.of("-Dcorral.llama.lib.dir=" + dir));
        assertThat(run.out().get("error")).isEqualTo("llama.cpp 0.9.0 in " + dir + " is not a release this Corral binds"
                + " (its C API is llama.cpp's 0.4.0 or 0.5.0); use the corral-natives artifact of this Corral version");
    }

    @Test
    void aPackagedFileWhoseSha256DiffersFromItsIndex_isRefused(@TempDir Path dir) throws Exception {
        // a jar ahead of the real natives on the class path, whose index lists another digest for one library
        Path jar = dir.resolve("tampered.jar");
        Path real = unpacked("linux-x64");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("natives/linux-x64/files.txt"));
            out.write(("0".repeat(64) + "  libggml-base.so\n").getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("natives/linux-x64/libggml-base.so"));
            out.write(Files.readAllBytes(real.resolve("libggml-base.so")));
        }
        Run run = probe(List.of("-Dcorral.natives=linux-x64"), jar + java.io.File.pathSeparator);
        assertThat(run.out().get("error")).startsWith("natives linux-x64: libggml-base.so has sha256 ")
                .endsWith(", not the " + "0".repeat(64) + " its artifact lists");
    }

    /** The CPU variant as the loader unpacks it (in this JVM's cache). */
    private static Path unpacked(String variant) throws Exception {
        Run run = probe(List.of("-Dcorral.natives=" + variant));
        assertThat(run.out()).containsEntry("variant", variant);
        try (var dirs = Files.list(cache.resolve("natives"))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(variant + "-")).findFirst().orElseThrow();
        }
    }

    record Run(Map<String, String> out, String err) {
    }

    private static Run probe(List<String> properties) throws Exception {
        return probe(properties, "");
    }

    /** Runs {@link GpuProbeMain} in a JVM of its own with {@code properties}, {@code classPathFirst} ahead of this class path. */
    private static Run probe(List<String> properties, String classPathFirst) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dcorral.cache=" + cache,
                "-Dcorral.root=" + System.getProperty("corral.root", "")));
        command.addAll(properties);
        command.addAll(List.of("-cp", classPathFirst + System.getProperty("java.class.path"), GpuProbeMain.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("CORRAL_LLAMA_LIB_DIR");
        pb.environment().remove("CORRAL_NATIVES");
        Path err = Files.createTempFile(cache, "err", ".txt");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        Map<String, String> values = new LinkedHashMap<>();
        out.lines().filter(l -> l.contains("=")).forEach(l -> values.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        assertThat(values).as("the probe's output; stderr: %s", read(err)).isNotEmpty();
        return new Run(values, read(err));
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file);
    }
}

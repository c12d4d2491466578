package io.corral.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What tests that start a real server process (PostgreSQL, OpenSearch) share: a distribution unpacked once
 * per machine and moved into place whole, a command run as {@code nobody} when the tests run as root (those
 * servers refuse root), and a stop that cleans up.
 */
public final class TestServers {

    private TestServers() {
    }

    /** The command, run as {@code nobody} when this process is root. */
    public static List<String> unprivileged(List<String> command) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "nobody", "--"));
        c.addAll(command);
        return c;
    }

    /** Moves a freshly unpacked {@code tmp} to {@code target}, unless another run put a complete one there first. */
    public static Path moveIntoPlace(Path tmp, Path target, Predicate<Path> complete) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (!complete.test(target)) {
                throw e;
            }
            deleteTree(tmp);
        }
        return target;
    }

    /** Stops {@code p} (SIGTERM, then SIGKILL after {@code seconds}) and deletes its folder. */
    public static void stop(Process p, int seconds, Path dir) throws Exception {
        p.destroy();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(seconds, TimeUnit.SECONDS);
        }
        deleteTree(dir);
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * An npm package installed once into the temporary folder ({@code corral-test-npm-<name>-<version>}), found again
     * by the file {@code marker} under its {@code node_modules}; returns the folder holding {@code node_modules}.
     */
    public static Path npmPackage(String name, String version, String marker) throws Exception {
        Path home = Path.of(System.getProperty("java.io.tmpdir"), "corral-test-npm-" + name.replace('/', '-').replace("@", "") + "-" + version);
        if (!java.nio.file.Files.exists(home.resolve("node_modules").resolve(marker))) {
            Path tmp = java.nio.file.Files.createTempDirectory("corral-test-npm");
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp.toString(),
                    name + "@" + version).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!npm.waitFor(5, java.util.concurrent.TimeUnit.MINUTES) || npm.exitValue() != 0) {
                throw new IllegalStateException("npm could not install " + name + "@" + version);
            }
            moveIntoPlace(tmp, home, h -> java.nio.file.Files.exists(h.resolve("node_modules").resolve(marker)));
        }
        return home;
    }
}

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
}

package io.corral.it;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A real {@code corral serve} in a JVM of its own, as the crash and scale-out tests start it, and the wait for it. */
final class ServeProcess {

    private ServeProcess() {
    }

    /** Starts {@code corral serve args...} with its own cache folder, appending its output to {@code log}. */
    static Process start(Path cache, Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dcorral.cache=" + cache, "-cp", System.getProperty("java.class.path"),
                "io.corral.cli.CorralCli", "serve"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits (polling, bounded at 2 minutes) until the server on {@code port} answers its health route. */
    static void awaitUp(HttpClient http, Process p, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (ServeFlagsTest.healthy(http, port)) {
                return;
            }
            Thread.sleep(50); // polling for the server to answer
        }
        throw new AssertionError("no server on " + port + ": " + Files.readString(log));
    }
}

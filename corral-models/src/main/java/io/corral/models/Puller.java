package io.corral.models;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.api.UnavailableException;
import io.corral.api.UrlPolicy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Pulls a GGUF model into a {@link ModelStore}: from Hugging Face ({@code hf://owner/repo/file.gguf}, or
 * {@code owner/repo:QUANT} picking the file of that quantization from the repo's file list; {@code HF_ENDPOINT} names a
 * mirror), from the Ollama registry ({@code ollama://name:tag}: its manifest, then the model layer; the registry URL is
 * configurable), or from any http(s) URL. A download resumes where an interrupted one stopped (HTTP Range), is checked
 * against its sha256 (the source's, or one given) and the free disk space, and lands whole. Downloads use the JDK's
 * {@code HttpURLConnection}; redirects (Hugging Face's to its CDN, a registry's to its blob store) are followed here, one hop at
 * a time, each URL passing the {@link UrlPolicy} first (the configured Hugging Face and registry hosts are allowed as
 * they are), so a URL that is public at first cannot lead a server's pull to a private address; https never turns to
 * http.
 */
public final class Puller {

    /** How far a pull has come: bytes done of total (0 when unknown), and the speed so far. */
    public record Progress(String name, long done, long total, double bytesPerSecond) {
    }

    /**
     * Where a model's file is: its URL, its sha256 and size when the source says, the name it is kept under, and its
     * projector's file (null when it has none).
     */
    record Source(String name, URI url, String sha256, long size, Source projector) {
        Source(String name, URI url, String sha256, long size) {
            this(name, url, sha256, size, null);
        }
    }

    private static final int ATTEMPTS = 5;
    private static final int MAX_REDIRECTS = 10;

    private final ModelStore store;
    private final String huggingFace;
    private final String ollama;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);
    /** How long a download may go without a byte before it is dropped (and resumed, up to {@link #ATTEMPTS} times). */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private final UrlPolicy urls;

    /**
     * @param huggingFace Hugging Face's base URL ({@code HF_ENDPOINT}, default https://huggingface.co)
     * @param ollama      the Ollama registry's base URL (default https://registry.ollama.ai)
     * @param urls        where a pull's URLs and redirects may lead ({@link UrlPolicy#ANY} for the CLI's own pulls);
     *                    the two bases' hosts are allowed beside it
     */
    public Puller(ModelStore store, String huggingFace, String ollama, UrlPolicy urls) {
        this.store = store;
        this.huggingFace = trim(huggingFace == null || huggingFace.isBlank() ? "https://huggingface.co" : huggingFace);
        this.ollama = trim(ollama == null || ollama.isBlank() ? "https://registry.ollama.ai" : ollama);
        this.urls = urls.allowing(List.of(host(this.huggingFace, "HF_ENDPOINT"), host(this.ollama, "CORRAL_OLLAMA_REGISTRY")));
    }

    /** The host of a configured base URL, which must be an http(s) URL with one. */
    private static String host(String base, String name) {
        URI u;
        try {
            u = URI.create(base);
        } catch (IllegalArgumentException e) {
            u = null;
        }
        if (u == null || u.getHost() == null || !"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
            throw new IllegalArgumentException(name + " must be an http(s) URL with a host, was '" + base + "'");
        }
        return u.getHost();
    }

    /** A puller as the environment says: {@code HF_ENDPOINT}, {@code CORRAL_OLLAMA_REGISTRY}. */
    public static Puller of(ModelStore store, Map<String, String> env, UrlPolicy urls) {
        return new Puller(store, env.get("HF_ENDPOINT"), env.get("CORRAL_OLLAMA_REGISTRY"), urls);
    }

    private static String trim(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /**
     * Pulls {@code ref}; {@code sha256} (or null) checks a URL's file; {@code name} (or null) is what it is kept
     * under. Returns the model as recorded.
     */
    public ModelStore.Model pull(String ref, String sha256, String name, Consumer<Progress> progress) {
        Source s = source(ref.strip());
        if (sha256 != null && !sha256.isBlank()) {
            if (s.sha256() != null && !s.sha256().equalsIgnoreCase(sha256)) {
                throw new InvalidRequestException("sha256", "the source says " + s.sha256() + ", not " + sha256);
            }
            s = new Source(s.name(), s.url(), sha256.toLowerCase(Locale.ROOT), s.size(), s.projector());
        }
        String kept = name == null || name.isBlank() ? s.name() : name;
        try {
            Blob model = fetch(s, kept, ref, progress);
            Path projector = null;
            if (s.projector() != null) {
                // the model's projector, pulled with it and linked beside its file, where the engine looks for one
                Blob p = fetch(s.projector(), kept + " (projector)", ref, progress);
                projector = io.corral.api.Projectors.beside(model.file());
                Path tmp = projector.resolveSibling(projector.getFileName() + ".tmp");
                Files.deleteIfExists(tmp);
                try {
                    Files.createLink(tmp, p.file());
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(p.file(), tmp);
                }
                ModelStore.move(tmp, projector);
                projector = p.file();
            }
            return store.record(kept, ref, model.file(), model.sha256(), model.size(), projector);
        } catch (IOException e) {
            throw new UnavailableException("pulling " + ref + " failed: " + e.getMessage(), e);
        }
    }

    /** A file in the store's blobs, by its digest. */
    private record Blob(Path file, String sha256, long size) {
    }

    /** {@code s}'s file in the store: there already (by its digest), or downloaded, checked and moved into place. */
    private Blob fetch(Source s, String label, String ref, Consumer<Progress> progress) throws IOException {
        try {
            Path blobs = store.blobs();
            if (s.sha256() != null) {
                Path done = blobs.resolve("sha256-" + s.sha256());
                if (Files.exists(done)) { // the same file under another name: only the name is new
                    return new Blob(done, s.sha256(), Files.size(done));
                }
            }
            Path partial = blobs.resolve("partial-" + (s.sha256() != null ? s.sha256()
                    : HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.url().toString().getBytes())).substring(0, 32)));
            MessageDigest hash = MessageDigest.getInstance("SHA-256");
            long size = download(s, partial, label, progress, hash);
            String digest = HexFormat.of().formatHex(hash.digest());
            if (s.sha256() != null && !digest.equals(s.sha256())) {
                Files.deleteIfExists(partial);
                throw new InvalidRequestException("sha256", "the file of " + ref + " has sha256 " + digest + ", not " + s.sha256()
                        + " as its source says; it was removed");
            }
            Path target = blobs.resolve("sha256-" + digest);
            ModelStore.move(partial, target);
            return new Blob(target, digest, size);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Downloads into {@code partial}, resuming what is there; returns the file's size. {@code hash} ends holding the
     * whole file's digest: bytes are hashed as they are written (what a resumed download had is read once more).
     */
    private long download(Source s, Path partial, String name, Consumer<Progress> progress, MessageDigest hash) throws IOException {
        IOException last = null;
        long start = System.nanoTime();
        long startedAt = Files.exists(partial) ? Files.size(partial) : 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            long have = Files.exists(partial) ? Files.size(partial) : 0;
            if (s.size() > 0 && have == s.size()) {
                rehash(partial, hash);
                return have;
            }
            Answer r = send(s.url(), have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of());
            try (InputStream in = r.body()) {
                if (r.statusCode() == 416 && have > 0) {
                    rehash(partial, hash);
                    return have; // nothing left to fetch
                }
                if (r.statusCode() == 404) {
                    throw new NotFoundException("model", s.url() + " is not there (404)");
                }
                if (r.statusCode() != 200 && r.statusCode() != 206) {
                    throw new UnavailableException(s.url() + " answered " + r.statusCode());
                }
                boolean append = r.statusCode() == 206;
                long total = s.size() > 0 ? s.size() : r.length() + (append ? have : 0);
                long need = Math.max(0, total - (append ? have : 0));
                long free = Files.getFileStore(partial.getParent()).getUsableSpace();
                if (total > 0 && need > free) {
                    throw new InvalidRequestException("model", "pulling " + name + " needs " + need + " bytes, and "
                            + partial.getParent() + " has " + free + " free");
                }
                long done = append ? have : 0;
                if (append) {
                    rehash(partial, hash);
                } else {
                    hash.reset();
                }
                try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                     Hashing hashing = new Hashing(hash)) {
                    for (int n = Hashing.SIZE; n == Hashing.SIZE; ) {
                        byte[] buf = hashing.buffer();
                        n = in.readNBytes(buf, 0, buf.length); // fewer only at the end
                        out.write(buf, 0, n);
                        hashing.hash(buf, n);
                        done += n;
                        double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
                        progress.accept(new Progress(name, done, Math.max(0, total), (done - startedAt) / secs));
                    }
                }
                if (total > 0 && done < total) {
                    throw new IOException("the connection ended after " + done + " of " + total + " bytes");
                }
                progress.accept(new Progress(name, done, Math.max(done, total), (done - startedAt) / Math.max(1e-3, (System.nanoTime() - start) / 1e9)));
                return done;
            } catch (IOException e) {
                last = e; // resume from what arrived
            }
        }
        throw last;
    }

    /**
     * Hashes what a download wrote on a thread of its own, so reading and writing overlap with hashing (SHA-256 of a
     * 512 MiB file takes about 0.45 s here, as long as curl takes to fetch it). Closing waits until every buffer handed
     * over is hashed.
     */
    private static final class Hashing implements AutoCloseable {
        static final int SIZE = 1 << 20;
        private static final int BUFFERS = 4;
        private static final byte[] END = new byte[0];

        private final java.util.concurrent.BlockingQueue<byte[]> free = new java.util.concurrent.ArrayBlockingQueue<>(BUFFERS);
        private final java.util.concurrent.BlockingQueue<byte[]> full = new java.util.concurrent.ArrayBlockingQueue<>(BUFFERS + 1);
        private final java.util.concurrent.BlockingQueue<Integer> lengths = new java.util.concurrent.ArrayBlockingQueue<>(BUFFERS + 1);
        private final Thread thread;

        Hashing(MessageDigest hash) {
            for (int i = 0; i < BUFFERS; i++) {
                free.add(new byte[SIZE]);
            }
            thread = Thread.ofPlatform().daemon().name("corral-pull-hash").start(() -> {
                try {
                    for (byte[] b; (b = full.take()) != END; ) {
                        hash.update(b, 0, lengths.take());
                        free.add(b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        /** A buffer to read into, once the hasher has one free. */
        byte[] buffer() throws java.io.InterruptedIOException {
            try {
                return free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
        }

        /** Hands {@code n} bytes of {@code b} (written) to the hasher. */
        void hash(byte[] b, int n) {
            lengths.add(n);
            full.add(b);
        }

        @Override
        public void close() {
            full.add(END);
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** An answer: its status, its body's length (-1 when not said), and its body (the caller closes it). */
    private record Answer(int statusCode, long length, InputStream body) {
    }

    /**
     * {@code url}'s answer to a GET, following redirects one hop at a time: every URL on the way passes the policy before
     * it is connected to (a 400 naming {@code model} otherwise); a redirect from https to http is not followed. The
     * JDK's blocking {@code HttpURLConnection}, with no proxy (as the policy checks the address it connects to): on a
     * 512 MiB download it moved bytes 1.3-1.6x faster than the JDK's {@code HttpClient} through the same loop here.
     */
    private Answer send(URI url, Map<String, String> headers) throws IOException {
        URI at = url;
        for (int hop = 0; ; hop++) {
            urls.check(at, "model");
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) at.toURL().openConnection(java.net.Proxy.NO_PROXY);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            c.setReadTimeout((int) READ_TIMEOUT.toMillis());
            headers.forEach(c::setRequestProperty);
            int status = c.getResponseCode();
            String location = c.getHeaderField("Location");
            if (status / 100 != 3 || location == null) {
                InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
                return new Answer(status, c.getContentLengthLong(), body != null ? body : InputStream.nullInputStream());
            }
            c.disconnect(); // a redirect's body is not read (it could be any size)
            URI next = at.resolve(location);
            if (hop == MAX_REDIRECTS) {
                throw new UnavailableException(url + " redirects more than " + MAX_REDIRECTS + " times");
            }
            if ("https".equals(at.getScheme()) && !"https".equals(next.getScheme())) {
                throw new UnavailableException(at + " redirects from https to " + next + "; not followed");
            }
            at = next;
        }
    }

    /** {@code hash} of the file as it is on disk (a download resumed hashes what it already had). */
    private static void rehash(Path file, MessageDigest hash) throws IOException {
        hash.reset();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                hash.update(buf, 0, n);
            }
        }
    }

    // ---- where a reference leads ----

    Source source(String ref) {
        if (ref.startsWith("ollama://")) {
            return ollama(ref.substring("ollama://".length()));
        }
        if (ref.startsWith("http://") || ref.startsWith("https://")) {
            URI u = URI.create(ref);
            String file = u.getPath().substring(u.getPath().lastIndexOf('/') + 1);
            return new Source(file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file, u, null, 0);
        }
        String hf = ref.startsWith("hf://") ? ref.substring(5) : ref.startsWith("hf.co/") ? ref.substring(6)
                : ref.startsWith("huggingface.co/") ? ref.substring(15) : ref;
        String[] parts = hf.split("/", 3);
        if (parts.length == 3 && parts[2].endsWith(".gguf")) {
            return huggingFaceFile(parts[0] + "/" + parts[1], parts[2], "hf.co/" + hf);
        }
        if (parts.length == 2 && parts[1].contains(":")) {
            String repo = parts[0] + "/" + parts[1].substring(0, parts[1].indexOf(':'));
            String quant = parts[1].substring(parts[1].indexOf(':') + 1);
            return huggingFaceQuant(repo, quant, "hf.co/" + hf);
        }
        throw new InvalidRequestException("model", "'" + ref + "' is none of hf://owner/repo/file.gguf, owner/repo:QUANT, "
                + "ollama://name:tag or an http(s) URL");
    }

    private JsonNode getJson(URI u, String accept) {
        try {
            Answer r = send(u, Map.of("Accept", accept));
            try (InputStream in = r.body()) {
                if (r.statusCode() == 404 || r.statusCode() == 401) {
                    throw new NotFoundException("model", u + " is not there (" + r.statusCode() + ")");
                }
                if (r.statusCode() != 200) {
                    throw new UnavailableException(u + " answered " + r.statusCode());
                }
                return ModelStore.Mapper.JSON.readTree(in); // a pull from a URL never reads JSON
            }
        } catch (IOException e) {
            throw new UnavailableException(u + " cannot be reached: " + e.getMessage(), e);
        }
    }

    /** The repo's files from Hugging Face's API: path to (sha256, size) for its LFS files. */
    private List<JsonNode> tree(String repo) {
        JsonNode t = getJson(URI.create(huggingFace + "/api/models/" + repo + "/tree/main?recursive=true"), "application/json");
        List<JsonNode> files = new ArrayList<>();
        t.forEach(files::add);
        return files;
    }

    private Source huggingFaceFile(String repo, String file, String name) {
        String sha = null;
        long size = 0;
        for (JsonNode f : tree(repo)) {
            if (f.path("path").asText().equals(file)) {
                sha = f.path("lfs").path("oid").asText(null);
                size = f.path("lfs").path("size").asLong(f.path("size").asLong(0));
            }
        }
        return new Source(name, URI.create(huggingFace + "/" + repo + "/resolve/main/" + file), sha, size);
    }

    private Source huggingFaceQuant(String repo, String quant, String name) {
        List<JsonNode> matches = new ArrayList<>();
        List<JsonNode> projectors = new ArrayList<>();
        List<String> all = new ArrayList<>();
        for (JsonNode f : tree(repo)) {
            String path = f.path("path").asText();
            if (path.endsWith(".gguf")) {
                all.add(path);
                if (path.toLowerCase(Locale.ROOT).contains("mmproj")) {
                    projectors.add(f);
                } else if (path.toLowerCase(Locale.ROOT).contains(quant.toLowerCase(Locale.ROOT))) {
                    matches.add(f);
                }
            }
        }
        if (matches.size() != 1) {
            throw new InvalidRequestException("model", repo + " has " + (matches.isEmpty() ? "no" : matches.size()) + " GGUF files of "
                    + quant + " (its GGUF files: " + String.join(", ", all) + ")");
        }
        JsonNode f = matches.getFirst();
        JsonNode projector = projectorOf(quant, projectors);
        return new Source(name, URI.create(huggingFace + "/" + repo + "/resolve/main/" + f.path("path").asText()),
                f.path("lfs").path("oid").asText(null), f.path("lfs").path("size").asLong(f.path("size").asLong(0)),
                projector == null ? null : new Source(name + ".mmproj", URI.create(huggingFace + "/" + repo + "/resolve/main/"
                        + projector.path("path").asText()), projector.path("lfs").path("oid").asText(null),
                        projector.path("lfs").path("size").asLong(projector.path("size").asLong(0))));
    }

    /**
     * The projector a vision repo's model is pulled with, among its {@code mmproj} files: the one of the same
     * quantization, else F16, else BF16, else F32, else the first by name (llama.cpp's own pick is F16's, or the first).
     */
    private static JsonNode projectorOf(String quant, List<JsonNode> projectors) {
        if (projectors.isEmpty()) {
            return null;
        }
        List<JsonNode> sorted = projectors.stream().sorted(java.util.Comparator.comparing(p -> p.path("path").asText())).toList();
        for (String want : List.of(quant, "f16", "bf16", "f32")) {
            for (JsonNode p : sorted) {
                if (p.path("path").asText().toLowerCase(Locale.ROOT).contains(want.toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
        }
        return sorted.getFirst();
    }

    /** An Ollama model name: up to three path parts ({@code [namespace/]model} on the registry) of letters, digits, {@code _.-}. */
    private static final java.util.regex.Pattern OLLAMA_NAME =
            java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*){0,2}");
    private static final java.util.regex.Pattern OLLAMA_TAG = java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

    private Source ollama(String ref) {
        String tag = "latest";
        String repo = ref;
        if (ref.contains(":")) {
            tag = ref.substring(ref.lastIndexOf(':') + 1);
            repo = ref.substring(0, ref.lastIndexOf(':'));
        }
        if (!OLLAMA_NAME.matcher(repo).matches() || !OLLAMA_TAG.matcher(tag).matches()) {
            // checked before any URL is made of it: a name like "::x" or "../x" asks nothing of the registry
            throw new InvalidRequestException("model", "'" + ref + "' is not an Ollama model name (name or namespace/name, then :tag)");
        }
        String path = repo.contains("/") ? repo : "library/" + repo;
        JsonNode manifest = getJson(URI.create(ollama + "/v2/" + path + "/manifests/" + tag),
                "application/vnd.docker.distribution.manifest.v2+json");
        Source model = null;
        Source projector = null;
        for (JsonNode layer : manifest.path("layers")) {
            String type = layer.path("mediaType").asText();
            if (type.equals("application/vnd.ollama.image.model") || type.equals("application/vnd.ollama.image.projector")) {
                String digest = layer.path("digest").asText();
                if (!digest.startsWith("sha256:")) {
                    throw new UnavailableException("the manifest of " + ref + " names a layer by " + digest);
                }
                Source s = new Source(repo + ":" + tag, URI.create(ollama + "/v2/" + path + "/blobs/" + digest),
                        digest.substring(7), layer.path("size").asLong(0));
                if (type.endsWith(".model") && model == null) {
                    model = s;
                } else if (type.endsWith(".projector") && projector == null) {
                    projector = s;
                }
            }
        }
        if (model == null) {
            throw new NotFoundException("model", "the manifest of " + ref + " has no model layer");
        }
        return new Source(model.name(), model.url(), model.sha256(), model.size(), projector);
    }
}

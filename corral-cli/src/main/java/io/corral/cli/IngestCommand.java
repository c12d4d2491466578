package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.Corral;
import io.corral.api.NotFoundException;
import io.corral.api.UnavailableException;
import io.corral.config.ConfigLoader;
import io.corral.config.DistributionConfig;
import io.corral.onnx.OnnxEmbeddings;
import io.corral.retrieval.Embedder;
import io.corral.retrieval.FolderSync;
import io.corral.spi.VectorStores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code corral ingest FOLDER --store ID}: brings a vector store in step with a folder, as a knowledge folder
 * of the config is at start-up, then shows the files' progress until every one is done. Through a running
 * server's API when one answers at {@code --url} (it holds the store), directly on the embedded stores
 * otherwise. Exits 1 when some file failed, naming each with its reason.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Ingest a folder into a vector store: new and changed files are read, chunked and embedded,",
                "removed ones leave the store. Through a running server when one answers at --url, directly otherwise."})
final class IngestCommand implements Callable<Integer> {

    /** Made on first use, not when picocli builds the command tree for every command (a tenth of a second of class loading). */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }

    @Parameters(index = "0", paramLabel = "FOLDER", description = "The folder to ingest.")
    Path folder;

    @Option(names = "--store", required = true, description = "The vector store's id (made if it does not exist).")
    String store;

    @Option(names = "--url", description = "The server (default ${DEFAULT-VALUE}).", defaultValue = "http://127.0.0.1:8321")
    String url;

    @Option(names = "--api-key", description = "The server's API key, if it needs one (also CORRAL_API_KEY).")
    String apiKey;

    @Option(names = "--config", description = "A distribution config, for ingesting directly (its storage, vector_io and models).")
    Path configFile;

    @Option(names = "--embedding-model", description = "The embedding model of a new store (default: the first one served).")
    String embeddingModel;

    @Option(names = "--direct", description = "Never use a server: open the embedded stores (stop the server first).")
    boolean direct;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(folder)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), folder + " is not a folder");
        }
        if (!store.matches("[A-Za-z0-9_.-]{1,128}")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--store: a vector store id is 1 to 128 letters, digits, '_', '-' or '.', was '" + store + "'");
        }
        PrintWriter err = spec.commandLine().getErr();
        String key = apiKey != null ? apiKey : System.getenv("CORRAL_API_KEY");
        if (!direct) {
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
                Api api = new Api(http, url, key, store);
                if (api.reachable()) {
                    err.println("ingesting through the server at " + url);
                    api.ensureStore(embeddingModel);
                    return report(FolderSync.sync(folder, api.target()), api::progress);
                }
            }
        }
        DistributionConfig distribution = configFile == null ? null : ConfigLoader.load(configFile);
        // what serve would embed with: the config's models, or the in-process default embedding model
        try (AutoCloseable models = distribution != null
                ? Corral.builder().environment(System.getenv()).distribution(configFile, distribution).build()
                : new OnnxEmbeddings("sentence-transformers")) {
            Embedder embedder = models instanceof Corral corral ? Embedder.of(corral::embed, corral::models)
                    : Embedder.of(((OnnxEmbeddings) models)::embed, ((OnnxEmbeddings) models)::models);
            try (Knowledge knowledge = Knowledge.open(configFile, distribution, embedder)) {
                err.println("ingesting directly into the embedded stores");
                try {
                    knowledge.stores.get(null, store);
                } catch (NotFoundException e) {
                    knowledge.stores.create(null, new VectorStores.NewStore(store, store, null, null, null, null, embeddingModel, null, null));
                }
                var summary = FolderSync.sync(folder, FolderSync.direct(knowledge.stores, knowledge.files, null, store, null));
                return report(summary, () -> {
                    var s = knowledge.stores.get(null, store);
                    List<String> failed = knowledge.stores.files(null, store, "failed").stream()
                            .map(f -> f.attributes().get(FolderSync.PATH) + ": " + f.lastError().message()).toList();
                    return new Progress(s.fileCounts().total(), s.fileCounts().inProgress(), failed);
                });
            }
        }
    }

    /** Where the store's files stand. */
    record Progress(int total, int inProgress, List<String> failed) {
    }

    /** Prints what the sync did, a progress bar until no file is in progress, and the failures; 1 when some failed. */
    private int report(FolderSync.Summary s, Supplier<Progress> progress) throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        s.skipped().forEach(k -> err.println("skipped " + k));
        Progress p = progress.get();
        boolean tty = System.console() != null;
        while (p.inProgress() > 0) {
            int done = p.total() - p.inProgress();
            int width = 30;
            int filled = p.total() == 0 ? width : done * width / p.total();
            String bar = "[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + p.total() + " files";
            if (tty) {
                err.print("\r" + bar);
            } else {
                err.println(bar);
            }
            err.flush();
            Thread.sleep(tty ? 200 : 2000); // a progress display's refresh, not an ordering
            p = progress.get();
        }
        if (tty) {
            err.println("\r[" + "#".repeat(30) + "] " + p.total() + "/" + p.total() + " files");
        }
        out.printf("%s: %d new, %d changed, %d removed, %d unchanged; %d files in the store, %d failed%n", store, s.added(),
                s.changed(), s.removed(), s.unchanged(), p.total(), p.failed().size());
        p.failed().forEach(f -> out.println("failed " + f));
        out.flush();
        return p.failed().isEmpty() ? 0 : 1;
    }

    /** A store through a server's vector stores and files API. */
    private record Api(HttpClient http, String url, String key, String store) {

        boolean reachable() {
            try {
                send("GET", "/v1/vector_stores?limit=1", null, null);
                return true;
            } catch (UnavailableException e) {
                return false;
            }
        }

        JsonNode send(String method, String path, byte[] body, String contentType) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                throw new UnavailableException("no Corral server at " + url);
            } catch (IOException e) {
                throw new UnavailableException("the server at " + url + " failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new io.corral.api.CancelledException("interrupted");
            }
            JsonNode node;
            try {
                node = Mapper.JSON.readTree(r.body());
            } catch (IOException e) {
                throw new io.corral.api.EngineException(url + path + " answered " + r.statusCode() + " with no JSON", e);
            }
            if (r.statusCode() == 404) {
                throw new NotFoundException(null, node.at("/error/message").asText());
            }
            if (r.statusCode() != 200) {
                throw new io.corral.api.InvalidRequestException(null, url + path + " answered " + r.statusCode() + ": "
                        + node.at("/error/message").asText());
            }
            return node;
        }

        JsonNode json(String method, String path, Object body) {
            try {
                return send(method, path, body == null ? null : Mapper.JSON.writeValueAsBytes(body), "application/json");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        void ensureStore(String model) {
            String id = store;
            try {
                json("GET", "/v1/vector_stores/" + id, null);
            } catch (NotFoundException e) {
                Map<String, Object> body = new java.util.HashMap<>(Map.of("id", id, "name", id));
                if (model != null) {
                    body.put("embedding_model", model);
                }
                json("POST", "/v1/vector_stores", body);
            }
        }

        Progress progress() {
            JsonNode s = json("GET", "/v1/vector_stores/" + store, null);
            List<String> failed = new ArrayList<>();
            for (VectorStores.StoreFile f : files("failed")) {
                failed.add(f.attributes().get(FolderSync.PATH) + ": " + (f.lastError() == null ? "" : f.lastError().message()));
            }
            return new Progress(s.at("/file_counts/total").asInt(), s.at("/file_counts/in_progress").asInt(), failed);
        }

        List<VectorStores.StoreFile> files(String status) {
            List<VectorStores.StoreFile> all = new ArrayList<>();
            String after = null;
            do {
                JsonNode page = json("GET", "/v1/vector_stores/" + store + "/files?limit=100" + (status == null ? "" : "&filter=" + status)
                        + (after == null ? "" : "&after=" + after), null);
                for (JsonNode f : page.path("data")) {
                    Map<String, Object> attrs = Mapper.JSON.convertValue(f.path("attributes"), Map.class);
                    VectorStores.LastError error = f.path("last_error").isObject()
                            ? new VectorStores.LastError(f.at("/last_error/code").asText(), f.at("/last_error/message").asText()) : null;
                    all.add(new VectorStores.StoreFile(f.path("id").asText(), store, null, f.path("created_at").asLong(),
                            f.path("status").asText(), f.path("usage_bytes").asLong(), attrs, null, error));
                }
                after = page.path("has_more").asBoolean() ? page.path("last_id").asText() : null;
            } while (after != null);
            return all;
        }

        FolderSync.Target target() {
            String id = store;
            return new FolderSync.Target() {
                @Override
                public List<VectorStores.StoreFile> files() {
                    return Api.this.files(null);
                }

                @Override
                public String upload(String filename, byte[] content) {
                    String boundary = "corral-" + System.nanoTime();
                    byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--"
                            + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename.replace("\"", "%22")
                            + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
                    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
                    byte[] body = new byte[head.length + content.length + tail.length];
                    System.arraycopy(head, 0, body, 0, head.length);
                    System.arraycopy(content, 0, body, head.length, content.length);
                    System.arraycopy(tail, 0, body, head.length + content.length, tail.length);
                    return send("POST", "/v1/files", body, "multipart/form-data; boundary=" + boundary).path("id").asText();
                }

                @Override
                public void add(String fileId, Map<String, Object> attributes) {
                    json("POST", "/v1/vector_stores/" + id + "/files", Map.of("file_id", fileId, "attributes", attributes));
                }

                @Override
                public void remove(String fileId) {
                    try {
                        json("DELETE", "/v1/vector_stores/" + id + "/files/" + fileId, null);
                    } catch (NotFoundException e) {
                        // gone already
                    }
                    try {
                        json("DELETE", "/v1/files/" + fileId, null);
                    } catch (NotFoundException e) {
                        // gone already
                    }
                }
            };
        }
    }
}

package io.corral.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EmbeddingRequest;
import io.corral.onnx.OnnxEmbeddings;
import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorStores;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Retrieval through the HTTP API on the Cranfield collection, all in one run on the embedded defaults:
 * <ol>
 * <li>the embedding model's own throughput on the chunks the store will hold (chunks/s);</li>
 * <li>ingestion: every document uploaded as a file, one store made with them all, timed until every file is
 *     completed (chunks/s, and the ratio to 1);</li>
 * <li>quality: nDCG@10 (linear gain, documents counted once) over the judged queries, in hybrid, vector and
 *     keyword mode;</li>
 * <li>latency: each query's search through the API against the same search made directly (its embedding
 *     plus the store's query), p50 and p99.</li>
 * </ol>
 *   java ... io.corral.retrieval.RetrievalBench ../shared/data/ir/cranfield
 */
public final class RetrievalBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Map<String, String> docs = new LinkedHashMap<>();
        for (String line : Files.readAllLines(data.resolve("corpus.jsonl"))) {
            if (!line.isBlank()) {
                JsonNode d = JSON.readTree(line);
                docs.put(d.get("id").asText(), d.get("text").asText());
            }
        }
        Map<String, String> queries = new LinkedHashMap<>();
        for (String line : Files.readAllLines(data.resolve("queries.jsonl"))) {
            if (!line.isBlank()) {
                JsonNode q = JSON.readTree(line);
                queries.put(q.get("id").asText(), q.get("text").asText());
            }
        }
        Map<String, Map<String, Integer>> qrels = new HashMap<>();
        List<String> qrelLines = Files.readAllLines(data.resolve("qrels.tsv"));
        for (String line : qrelLines.subList(1, qrelLines.size())) {
            String[] f = line.split("\t");
            if (f.length == 3 && Integer.parseInt(f[2]) > 0) {
                qrels.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], Integer.parseInt(f[2]));
            }
        }
        Path dir = Files.createTempDirectory("corral-retrieval-bench");
        int cores = Runtime.getRuntime().availableProcessors();
        ACCESS_LOG.setLevel(java.util.logging.Level.WARNING);
        try (OnnxEmbeddings minilm = new OnnxEmbeddings("sentence-transformers")) {
            // 1. the model alone, on the chunks the store will hold
            List<String> chunks = new ArrayList<>();
            docs.values().forEach(t -> chunks.addAll(Chunker.chunks(t, VectorStores.Chunking.AUTO)));
            minilm.embed(new EmbeddingRequest(null, chunks.subList(0, 64)));
            long t0 = System.nanoTime();
            long cpu0 = cpu();
            for (int i = 0; i < chunks.size(); i += 64) {
                minilm.embed(new EmbeddingRequest(null, chunks.subList(i, Math.min(chunks.size(), i + 64))));
            }
            double modelSeconds = (System.nanoTime() - t0) / 1e9;
            double modelRate = chunks.size() / modelSeconds;
            System.out.printf("embedding model alone: %d chunks of %d documents in %.1f s: %.0f chunks/s (%d cores, %.1f s of CPU)%n",
                    chunks.size(), docs.size(), modelSeconds, modelRate, cores, (cpu() - cpu0) / 1e9);

            var files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
            var kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
            // -Dopensearch=http://host:9200: the same run on an OpenSearch node instead of the embedded store
            String opensearch = System.getProperty("opensearch");
            VectorIoProvider lucene = opensearch == null ? new LuceneVectorIo(dir.resolve("vectors"))
                    : new io.corral.opensearch.OpenSearchVectorIo(opensearch, null, null, "corral-bench-" + System.nanoTime() + "-");
            System.out.println("store: " + (opensearch == null ? "embedded (Lucene)" : "OpenSearch at " + opensearch));
            var service = new VectorStoreService(files, kv, Map.of("lucene", lucene), Embedder.of(minilm::embed, minilm::models),
                    Clock.systemUTC(), VectorStoreService.Config.defaults());
            try (CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0).withLimits(8 << 20, 64))
                    .providers(List.of(minilm)).files(files).vectorStores(service).start()) {
                String url = server.url();
                // 2. ingestion through the API, after a warm-up store (the JIT compiles the path; its compiling is the
                // process's start-up, not ingestion's): -Dwarm=N documents, the whole collection by default
                int warm = Integer.getInteger("warm", docs.size());
                List<String> warmFiles = new ArrayList<>();
                for (var d : docs.entrySet()) {
                    if (warmFiles.size() < warm) {
                        warmFiles.add(upload(url, "warm-" + d.getKey() + ".txt", d.getValue()));
                    }
                }
                String warmStore = post(url + "/v1/vector_stores", JSON.writeValueAsString(Map.of("name", "warm-up", "file_ids", warmFiles))).get("id").asText();
                while (get(url + "/v1/vector_stores/" + warmStore).get("file_counts").get("in_progress").asInt() > 0) {
                    Thread.sleep(20);
                }
                long u0 = System.nanoTime();
                Map<String, String> docOfFile = new HashMap<>();
                List<String> fileIds = new ArrayList<>();
                for (var d : docs.entrySet()) {
                    String id = upload(url, d.getKey() + ".txt", d.getValue());
                    docOfFile.put(id, d.getKey());
                    fileIds.add(id);
                }
                double uploadSeconds = (System.nanoTime() - u0) / 1e9;
                long i0 = System.nanoTime();
                long icpu = cpu();
                Map<String, Long> threads0 = threadCpu();
                JsonNode store = post(url + "/v1/vector_stores", JSON.writeValueAsString(Map.of("name", "cranfield", "file_ids", fileIds)));
                String storeId = store.get("id").asText();
                System.out.printf("the create request (1400 files recorded in progress) took %.2f s%n", (System.nanoTime() - i0) / 1e9);
                JsonNode counts;
                do {
                    Thread.sleep(100); // a client polling the store, as OpenAI's SDKs do (theirs wait longer)
                    counts = get(url + "/v1/vector_stores/" + storeId).get("file_counts");
                } while (counts.get("in_progress").asInt() > 0);
                double ingestSeconds = (System.nanoTime() - i0) / 1e9;
                long stored = lucene.count(storeId);
                double ingestRate = stored / ingestSeconds;
                System.out.printf("upload: %d files in %.1f s (after a warm-up store of %d)%n", docs.size(), uploadSeconds, warmFiles.size());
                System.out.printf("ingestion through the API: %d files (%d completed, %d failed), %d chunks in %.1f s (%.1f s of CPU): %.0f chunks/s = %.2fx the model alone%n",
                        docs.size(), counts.get("completed").asInt(), counts.get("failed").asInt(), stored, ingestSeconds, (cpu() - icpu) / 1e9, ingestRate,
                        ingestRate / modelRate);

                Map<String, Long> threads1 = threadCpu();
                StringBuilder where = new StringBuilder();
                long javaThreads = 0;
                for (var e : threads1.entrySet()) {
                    long d = e.getValue() - threads0.getOrDefault(e.getKey(), 0L);
                    javaThreads += d;
                    if (d > 100_000_000L) {
                        where.append(String.format(" %s %.1f s;", e.getKey(), d / 1e9));
                    }
                }
                System.out.printf("ingestion's CPU by thread:%s the JVM's own (JIT, GC) %.1f s%n", where, (cpu() - icpu - javaThreads) / 1e9);
                // 3. quality: each mode with the default ranking, then any rankings given as -Dsweep=JSON;JSON
                String search = url + "/v1/vector_stores/" + storeId + "/search";
                for (String mode : List.of("hybrid", "vector", "keyword")) {
                    Ndcg ndcg = meanNdcg(search, queries, qrels, docOfFile, ", \"search_mode\": \"" + mode + "\"");
                    System.out.printf("nDCG@10 %-7s through the API: %.4f over %d queries (the top 10 chunks' documents); %.4f (the first 10 documents)%n",
                            mode, ndcg.topChunks(), qrels.size(), ndcg.firstDocuments());
                }
                String sweep = System.getProperty("sweep");
                for (String ranking : sweep == null ? new String[0] : sweep.split(";")) {
                    Ndcg ndcg = meanNdcg(search, queries, qrels, docOfFile, ", \"ranking_options\": " + ranking);
                    System.out.printf("nDCG@10 hybrid %s: %.4f (first 10 documents %.4f)%n", ranking, ndcg.topChunks(), ndcg.firstDocuments());
                }

                // 4. latency: the API against the same search made directly
                List<String> qs = new ArrayList<>(queries.values());
                RawClient raw = new RawClient(server.port());
                // each way run on its own over all queries (interleaved, one way's threads waking slowed the next),
                // the first pass warming up
                List<String> bodies = new ArrayList<>();
                for (String q : qs) {
                    bodies.add(JSON.writeValueAsString(Map.of("query", q, "max_num_results", 10, "search_mode", "hybrid")));
                }
                String searchPath = "/v1/vector_stores/" + storeId + "/search";
                int n = qs.size();
                // four rounds after a warm-up one, the ways in a rotating order (what runs first or after another way
                // moved its figure by a few tenths of a ms); p50 over the rounds' samples
                long[][] all = new long[4][4 * n];
                for (int round = 0; round < 5; round++) {
                    for (int w = 0; w < 4; w++) {
                        int way = (w + round) % 4;
                        long[] took = new long[n];
                        for (int i = 0; i < n; i++) {
                            long t = System.nanoTime();
                            switch (way) {
                                case 0 -> post(url + searchPath, bodies.get(i));
                                case 1 -> {
                                    float[] v = minilm.embed(new EmbeddingRequest(null, List.of(qs.get(i)))).vectors().getFirst();
                                    lucene.query(storeId, new VectorIoProvider.Query(qs.get(i), v, VectorIoProvider.Mode.HYBRID, 10, null, Ranker.DEFAULT));
                                }
                                case 2 -> raw.call("POST", searchPath, bodies.get(i));
                                default -> raw.call("GET", "/v1/vector_stores/" + storeId + "/files/" + fileIds.get(i), null);
                            }
                            took[i] = System.nanoTime() - t;
                        }
                        if (round > 0) {
                            System.arraycopy(took, 0, all[way], (round - 1) * n, n);
                        }
                    }
                }
                long[] api = all[0], direct = all[1], rawApi = all[2], floor = all[3];
                // keyword mode, no embedding: what the API adds to the store's own search alone
                long[] rawKeyword = new long[qs.size()], directKeyword = new long[qs.size()];
                for (int pass = 0; pass < 2; pass++) {
                    for (int i = 0; i < qs.size(); i++) {
                        String body = JSON.writeValueAsString(Map.of("query", qs.get(i), "max_num_results", 10, "search_mode", "keyword"));
                        long d = System.nanoTime();
                        raw.call("POST", searchPath, body);
                        rawKeyword[i] = System.nanoTime() - d;
                    }
                    for (int i = 0; i < qs.size(); i++) {
                        long b = System.nanoTime();
                        lucene.query(storeId, new VectorIoProvider.Query(qs.get(i), null, VectorIoProvider.Mode.KEYWORD, 10, null, Ranker.DEFAULT));
                        directKeyword[i] = System.nanoTime() - b;
                    }
                }
                Arrays.sort(rawKeyword);
                Arrays.sort(directKeyword);
                System.out.printf("keyword search (no embedding), plain client: API p50 %.2f ms, direct %.2f ms: the API adds %.2f ms%n",
                        ms(rawKeyword, 0.5), ms(directKeyword, 0.5), ms(rawKeyword, 0.5) - ms(directKeyword, 0.5));
                Arrays.sort(api);
                Arrays.sort(direct);
                Arrays.sort(floor);
                Arrays.sort(rawApi);
                System.out.printf("search latency, %d queries x 4 rounds: API p50 %.2f ms p99 %.2f ms; direct (embedding + store) p50 %.2f ms p99 %.2f ms; the API adds %.2f ms at p50%n",
                        qs.size(), ms(api, 0.5), ms(api, 0.99), ms(direct, 0.5), ms(direct, 0.99), ms(api, 0.5) - ms(direct, 0.5));
                System.out.printf("with a plain keep-alive socket client: search p50 %.2f ms (adds %.2f ms over direct); a call that does no search (GET a store's file) p50 %.2f ms%n",
                        ms(rawApi, 0.5), ms(rawApi, 0.5) - ms(direct, 0.5), ms(floor, 0.5));
            } finally {
                service.close();
                kv.close();
                files.close();
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The access log, quiet for the run: held here, as java.util.logging keeps only weak references to its loggers. */
    static final java.util.logging.Logger ACCESS_LOG = java.util.logging.Logger.getLogger("corral.access");

    /** HTTP/1.1 over one kept-alive socket, nothing more: what the server's path costs without a client library's. */
    static final class RawClient {
        final java.net.Socket socket;
        final java.io.OutputStream out;
        final java.io.InputStream in;

        RawClient(int port) throws Exception {
            socket = new java.net.Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
            in = new java.io.BufferedInputStream(socket.getInputStream());
        }

        byte[] call(String method, String path, String json) throws Exception {
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            byte[] head = (method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] request = java.util.Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, request, head.length, body.length);
            out.write(request); // one segment, as a client that buffers its request sends it
            out.flush();
            int length = -1;
            StringBuilder line = new StringBuilder();
            while (true) {
                int c = in.read();
                if (c == '\n') {
                    String l = line.toString().strip();
                    if (l.isEmpty()) {
                        break;
                    }
                    if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(l.substring(15).strip());
                    }
                    line.setLength(0);
                } else {
                    line.append((char) c);
                }
            }
            return in.readNBytes(length);
        }
    }

    /** CPU time by thread name (numbers dropped, so a pool is one line). */
    static Map<String, Long> threadCpu() {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<String, Long> out = new java.util.TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            long c = mx.getThreadCpuTime(t.threadId());
            if (c > 0) {
                out.merge(t.getName().replaceAll("[0-9]+", "#"), c, Long::sum);
            }
        }
        return out;
    }

    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double ms(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))] / 1e6;
    }

    /**
     * A mean nDCG@10 in two readings: over the documents of the top 10 chunks, each counted once (a document with two
     * chunks there leaves fewer than ten), and over the first 10 distinct documents of the top 20 chunks (a document
     * ranked by its best chunk, as the issue's direct measurements ranked whole documents).
     */
    record Ndcg(double topChunks, double firstDocuments) {
    }

    /** The mean nDCG@10 of the judged queries, each searched with {@code extra} JSON fields. */
    static Ndcg meanNdcg(String search, Map<String, String> queries, Map<String, Map<String, Integer>> qrels,
                             Map<String, String> docOfFile, String extra) throws Exception {
        double chunks = 0;
        double documents = 0;
        int n = 0;
        for (var q : queries.entrySet()) {
            Map<String, Integer> rel = qrels.get(q.getKey());
            if (rel == null) {
                continue;
            }
            JsonNode page = post(search, "{\"query\": " + JSON.writeValueAsString(q.getValue()) + ", \"max_num_results\": 20" + extra + "}");
            Set<String> top10 = new LinkedHashSet<>();
            Set<String> ranked = new LinkedHashSet<>();
            int i = 0;
            for (JsonNode hit : page.get("data")) {
                String doc = docOfFile.get(hit.get("file_id").asText());
                if (i++ < 10) {
                    top10.add(doc);
                }
                ranked.add(doc);
            }
            chunks += ndcg(new ArrayList<>(top10), rel, 10);
            documents += ndcg(new ArrayList<>(ranked), rel, 10);
            n++;
        }
        return new Ndcg(chunks / n, documents / n);
    }

    /** nDCG@k with linear gain: each ranked document's grade over log2(rank + 1), against the ideal order. */
    static double ndcg(List<String> ranked, Map<String, Integer> rel, int k) {
        double dcg = 0;
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            dcg += rel.getOrDefault(ranked.get(i), 0) / (Math.log(i + 2) / Math.log(2));
        }
        List<Integer> ideal = rel.values().stream().sorted(java.util.Comparator.reverseOrder()).toList();
        double idcg = 0;
        for (int i = 0; i < Math.min(k, ideal.size()); i++) {
            idcg += ideal.get(i) / (Math.log(i + 2) / Math.log(2));
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    static String upload(String url, String name, String text) throws Exception {
        String boundary = "corral" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + text + "\r\n--" + boundary + "--\r\n";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(r.body());
        }
        return JSON.readTree(r.body()).get("id").asText();
    }

    static JsonNode post(String url, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(r.body());
        }
        return JSON.readTree(r.body());
    }

    static JsonNode get(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }
}

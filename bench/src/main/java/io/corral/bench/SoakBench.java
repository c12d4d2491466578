package io.corral.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Soak: many concurrent clients against a running {@code corral serve} for a while, each looping over a mix of
 * streamed chat (40 %), embeddings (20 %), vector store search (20 %) and responses (20 %). Every 30 s it prints the
 * window's requests, errors and p99 latency, and the server's RSS, file descriptors and threads (from /proc); the
 * heap after a full GC ({@code jcmd GC.run}, {@code GC.heap_info}) at the end of the warm-up and at the end.
 * <p>{@code SoakBench URL SERVER_PID CLIENTS SECONDS WARMUP_SECONDS}
 */
public final class SoakBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Sample(long at, String kind, long nanos, boolean ok, String error) {
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        long pid = Long.parseLong(args[1]);
        int clients = Integer.parseInt(args[2]);
        long seconds = Long.parseLong(args[3]);
        long warmup = Long.parseLong(args[4]);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        String store = setUp(http, base);
        ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        Map<String, AtomicLong> errorKinds = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(clients);
        for (int i = 0; i < clients; i++) {
            int id = i;
            Thread.ofVirtual().start(() -> {
                try {
                    while (System.nanoTime() < end) {
                        samples.add(one(http, base, store, id, errorKinds));
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        System.out.printf("%-6s %8s %7s %9s %9s %8s %5s %7s%n", "t(s)", "requests", "errors", "p99(ms)", "p50(ms)", "RSS(MB)", "fds", "threads");
        long heapAfterWarmup = -1;
        long rssAfterWarmup = -1;
        for (long t = 30; t <= seconds; t += 30) {
            long target = start + t * 1_000_000_000L;
            while (System.nanoTime() < target) {
                Thread.sleep(Math.max(1, (target - System.nanoTime()) / 1_000_000)); // a bench's timer, not ordering
            }
            List<Sample> window = new ArrayList<>();
            for (Sample s; (s = samples.poll()) != null; ) {
                window.add(s);
            }
            List<Long> lat = new ArrayList<>(window.stream().filter(Sample::ok).map(Sample::nanos).toList());
            Collections.sort(lat);
            long errors = window.stream().filter(s -> !s.ok()).count();
            long rss = rssKb(pid);
            System.out.printf("%-6d %8d %7d %9.0f %9.0f %8.0f %5d %7d%n", t, window.size(), errors,
                    lat.isEmpty() ? 0 : lat.get((int) Math.min(lat.size() - 1, Math.floor(lat.size() * 0.99))) / 1e6,
                    lat.isEmpty() ? 0 : lat.get(lat.size() / 2) / 1e6, rss / 1024.0, fds(pid), threads(pid));
            if (t >= warmup && heapAfterWarmup < 0) {
                heapAfterWarmup = heapUsedKb(pid);
                rssAfterWarmup = rssKb(pid);
            }
        }
        done.await();
        long heapEnd = heapUsedKb(pid);
        long rssEnd = rssKb(pid);
        System.out.printf("heap after full GC: %.1f MB after warm-up, %.1f MB at the end (%+.1f %%); RSS %.0f MB -> %.0f MB (%+.1f %%)%n",
                heapAfterWarmup / 1024.0, heapEnd / 1024.0, 100.0 * (heapEnd - heapAfterWarmup) / heapAfterWarmup,
                rssAfterWarmup / 1024.0, rssEnd / 1024.0, 100.0 * (rssEnd - rssAfterWarmup) / rssAfterWarmup);
        System.out.println("errors by kind: " + errorKinds);
    }

    /** A vector store with one small file, for the searches. */
    private static String setUp(HttpClient http, String base) throws Exception {
        String boundary = "soakboundary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sea.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                + "The sea was calm. Boats left the harbour at dawn and came back with fish. The wind rose in the evening.\r\n--"
                + boundary + "--\r\n";
        JsonNode file = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body());
        JsonNode store = post(http, base + "/v1/vector_stores", "{\"name\":\"soak\",\"file_ids\":[\"" + file.get("id").asText() + "\"]}");
        String id = store.get("id").asText();
        for (int i = 0; i < 600; i++) {
            JsonNode s = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/vector_stores/" + id)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            if (s.at("/file_counts/in_progress").asInt(1) == 0) {
                return id;
            }
            Thread.sleep(100); // polling the server's ingestion: it has no event to wait on over HTTP
        }
        throw new IllegalStateException("the soak store's file never finished");
    }

    private static JsonNode post(HttpClient http, String url, String json) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private static Sample one(HttpClient http, String base, String store, int client, Map<String, AtomicLong> errorKinds) {
        int r = ThreadLocalRandom.current().nextInt(10);
        String kind = r < 4 ? "chat" : r < 6 ? "embeddings" : r < 8 ? "search" : "responses";
        String word = "w" + client + "x" + ThreadLocalRandom.current().nextInt(1000);
        String[] req = switch (kind) {
            case "chat" -> new String[] {"/v1/chat/completions", "{\"model\":\"stories260K\",\"stream\":true,\"max_tokens\":16,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time " + word + "\"}]}"};
            case "embeddings" -> new String[] {"/v1/embeddings", "{\"model\":\"all-MiniLM-L6-v2\",\"input\":\"the sea at dawn " + word + "\"}"};
            case "search" -> new String[] {"/v1/vector_stores/" + store + "/search", "{\"query\":\"boats and fish " + word + "\"}"};
            default -> new String[] {"/v1/responses", "{\"model\":\"stories260K\",\"max_output_tokens\":16,\"input\":\"Once " + word + "\"}"};
        };
        long t0 = System.nanoTime();
        try {
            HttpResponse<Stream<String>> res = http.send(HttpRequest.newBuilder(URI.create(base + req[0])).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(req[1])).build(),
                    HttpResponse.BodyHandlers.ofLines());
            boolean failedInStream;
            try (Stream<String> lines = res.body()) {
                failedInStream = lines.anyMatch(l -> l.startsWith("data: {\"error\""));
            }
            boolean ok = res.statusCode() == 200 && !failedInStream;
            if (!ok) {
                errorKinds.computeIfAbsent(kind + " " + res.statusCode(), k -> new AtomicLong()).incrementAndGet();
            }
            return new Sample(t0, kind, System.nanoTime() - t0, ok, ok ? null : String.valueOf(res.statusCode()));
        } catch (Exception e) {
            errorKinds.computeIfAbsent(kind + " " + e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
            return new Sample(t0, kind, System.nanoTime() - t0, false, e.toString());
        }
    }

    private static long rssKb(long pid) throws Exception {
        return status(pid, "VmRSS:");
    }

    private static long threads(long pid) throws Exception {
        return status(pid, "Threads:");
    }

    private static long status(long pid, String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    private static long fds(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }

    /** The server's heap in use after a full GC, from jcmd. */
    private static long heapUsedKb(long pid) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        new ProcessBuilder(jcmd, String.valueOf(pid), "GC.run").redirectErrorStream(true).start().waitFor();
        Process p = new ProcessBuilder(jcmd, String.valueOf(pid), "GC.heap_info").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}

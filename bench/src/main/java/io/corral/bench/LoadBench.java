package io.corral.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Several servers speaking OpenAI's {@code /v1/completions} under the same load, side by side: for each number of
 * concurrent clients, aggregate generated tokens/s and time to first token (p50), each client sending its requests
 * one after the other, streamed; servers alternate within each round, the median round is reported. Then a
 * stateless client sends a long shared prefix twice: time to first token of the first request against the second.
 *
 * <p>Usage: {@code LoadBench NAME=URL[,NAME=URL...] LEVELS TOKENS ROUNDS PREFIX_WORDS}
 */
public final class LoadBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    // a client per measurement: a server may close connections left idle while the other one was measured
    private static volatile HttpClient http = newClient();
    private static final String[] WORDS = ("the river town kept its old mill where children learned to count sacks of "
            + "grain while the miller told stories about storms floods and the long winter when the wheel froze").split(" ");

    record Result(double ttftMillis, int tokens, int promptTokens) {
    }

    record Level(double tokensPerSecond, double ttftP50) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> servers = new LinkedHashMap<>();
        for (String s : args[0].split(",")) {
            servers.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        }
        int[] levels = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int tokens = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        int prefixWords = Integer.parseInt(args[4]);
        List<String> names = new ArrayList<>(servers.keySet());
        Map<String, Map<Integer, List<Level>>> seen = new LinkedHashMap<>();
        names.forEach(n -> seen.put(n, new LinkedHashMap<>()));
        // uncounted warm-up passes (WARM, default 1): each 16 clients x 2 requests, then one client x 4, so a server on a
        // JIT compiles its per-token path first (a fresh Corral ran 0.87-0.90x of its warm self at one client)
        int warm = Integer.parseInt(System.getenv().getOrDefault("WARM", "1"));
        for (String n : names) {
            run(servers.get(n), 2, 1, tokens, "warm"); // load, fill caches of nothing in particular
            for (int w = 0; w < warm; w++) {
                run(servers.get(n), 16, 2, tokens, "warm" + w + "m");
                run(servers.get(n), 1, 4, tokens, "warm" + w + "o");
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (int level : levels) {
                List<String> order = new ArrayList<>(names);
                if ((r + level) % 2 == 1) {
                    java.util.Collections.reverse(order);
                }
                for (String n : order) {
                    Level l = run(servers.get(n), level, level == 1 ? 3 : 2, tokens, "r" + r + "c" + level);
                    seen.get(n).computeIfAbsent(level, k -> new ArrayList<>()).add(l);
                    System.err.printf("round %d  %-14s %2d clients  %6.2f tok/s  ttft p50 %7.1f ms%n", r + 1, n, level,
                            l.tokensPerSecond(), l.ttftP50());
                }
            }
        }
        String base = names.getFirst();
        System.out.printf("| clients | %s |%n", String.join(" | ", names.stream().map(n -> n + " tok/s").toList())
                + " | " + String.join(" | ", names.stream().skip(1).map(n -> n + " / " + base).toList())
                + " | " + String.join(" | ", names.stream().map(n -> n + " TTFT p50 ms").toList()));
        System.out.println("|---".repeat(1 + names.size() * 2 + names.size() - 1) + "|");
        for (int level : levels) {
            StringBuilder row = new StringBuilder("| " + level);
            double[] tps = new double[names.size()];
            for (int i = 0; i < names.size(); i++) {
                tps[i] = median(seen.get(names.get(i)).get(level).stream().mapToDouble(Level::tokensPerSecond).toArray());
                row.append(String.format(" | %.2f", tps[i]));
            }
            for (int i = 1; i < names.size(); i++) {
                row.append(String.format(" | %.2f", tps[i] / tps[0]));
            }
            for (String n : names) {
                row.append(String.format(" | %.0f", median(seen.get(n).get(level).stream().mapToDouble(Level::ttftP50).toArray())));
            }
            System.out.println(row.append(" |"));
        }
        if (prefixWords > 0) {
            StringBuilder prefix = new StringBuilder();
            for (int i = 0; i < prefixWords; i++) {
                prefix.append(WORDS[(i * 7 + i / WORDS.length) % WORDS.length]).append(i % 13 == 12 ? ". " : " ");
            }
            System.out.printf("%n| shared prefix, stateless client | prompt tokens | first TTFT ms | again TTFT ms | speed-up |%n|---|---|---|---|---|%n");
            for (String n : names) {
                http = newClient();
                Result first = request(servers.get(n), prefix + "Question one: who kept the mill?", 8);
                Result again = request(servers.get(n), prefix + "Question two: what froze?", 8);
                System.out.printf("| %s | %d | %.0f | %.0f | %.1fx |%n", n, first.promptTokens(), first.ttftMillis(),
                        again.ttftMillis(), first.ttftMillis() / again.ttftMillis());
            }
        }
    }

    /** {@code clients} clients, each sending {@code each} requests in turn; aggregate tokens/s and TTFT p50. */
    static Level run(String url, int clients, int each, int tokens, String tag) throws Exception {
        http = newClient();
        long t0 = System.nanoTime();
        List<Future<List<Result>>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    List<Result> results = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        results.add(request(url, "Story " + tag + "-" + client + "-" + i + ": the " + WORDS[(client + i) % WORDS.length]
                                + " and the " + WORDS[(client * 3 + i + 5) % WORDS.length] + " went", tokens));
                    }
                    return results;
                }));
            }
            List<Result> all = new ArrayList<>();
            for (Future<List<Result>> f : futures) {
                all.addAll(f.get());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Level(all.stream().mapToInt(Result::tokens).sum() / seconds,
                    median(all.stream().mapToDouble(Result::ttftMillis).toArray()));
        }
    }

    /** One streamed completion: time to its first text, and the usage the server reports. */
    static Result request(String url, String prompt, int tokens) throws Exception {
        var body = JSON.createObjectNode().put("model", "bench").put("prompt", prompt).put("max_tokens", tokens)
                .put("temperature", 0).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/v1/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        long t0 = System.nanoTime();
        HttpResponse<java.io.InputStream> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (java.io.IOException closed) { // a kept-alive connection the server had closed: once more, on a new one
            System.err.println(url + ": " + closed.getMessage() + "; sending again");
            t0 = System.nanoTime();
            resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        }
        if (resp.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + resp.statusCode() + ": " + new String(resp.body().readAllBytes()));
        }
        double ttft = -1;
        int generated = 0;
        int promptTokens = 0;
        int chunks = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                JsonNode chunk = JSON.readTree(line.substring(6));
                JsonNode choices = chunk.path("choices");
                if (choices.size() > 0 && !choices.get(0).path("text").asText("").isEmpty()) {
                    chunks++;
                    if (ttft < 0) {
                        ttft = (System.nanoTime() - t0) / 1e6;
                    }
                }
                if (chunk.path("usage").has("completion_tokens")) {
                    generated = chunk.path("usage").path("completion_tokens").asInt();
                    promptTokens = chunk.path("usage").path("prompt_tokens").asInt();
                }
            }
        }
        return new Result(ttft < 0 ? (System.nanoTime() - t0) / 1e6 : ttft, generated > 0 ? generated : chunks, promptTokens);
    }

    static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

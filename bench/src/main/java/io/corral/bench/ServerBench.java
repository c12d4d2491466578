package io.corral.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Closed-loop load on a running {@code corral serve}: requests per second and p50/p99 latency for
 * {@code GET /v1/models} and a one-token chat completion, at several concurrencies.
 * With {@code --pid}, also the server's CPU time per request (user + system, from {@code /proc/PID/stat}).
 * Usage: {@code ServerBench URL [seconds per scenario] [--pid PID]}
 */
public final class ServerBench {

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--pair")) {
            pair(args);
            return;
        }
        String url = args[0];
        if (args.length > 2 && args[1].equals("--hold")) {
            hold(url, Integer.parseInt(args[2]));
            return;
        }
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        long pid = args.length > 3 && args[2].equals("--pid") ? Long.parseLong(args[3]) : -1;
        HttpClient client = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        HttpRequest models = HttpRequest.newBuilder(URI.create(url + "/v1/models")).build();
        HttpRequest chat = HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"Once upon a time\"}],\"max_tokens\":1,\"temperature\":0}")).build();
        System.out.println("| scenario | clients | req/s | p50 ms | p99 ms | server CPU µs/req |");
        System.out.println("|---|---|---|---|---|---|");
        for (var scenario : List.of(new Object[]{"GET /v1/models", models}, new Object[]{"chat, 1 token", chat})) {
            run(client, (HttpRequest) scenario[1], 1, 1); // warm up
            for (int clients : new int[]{1, 16, 64}) {
                run(client, (HttpRequest) scenario[1], clients, 2);
                long cpu0 = cpuNanos(pid);
                double[] r = run(client, (HttpRequest) scenario[1], clients, seconds);
                long cpu = cpuNanos(pid) - cpu0;
                System.out.printf("| %s | %d | %.0f | %.2f | %.2f | %s |%n", scenario[0], clients, r[0], r[1], r[2],
                        pid < 0 ? "-" : String.format("%.0f", cpu / 1e3 / (r[0] * seconds)));
            }
        }
    }

    /**
     * Two servers, the one-token chat alternated between them round by round (the order turned each round), the server's
     * CPU per request and requests/s for each and their ratios within each round; prints the rounds, the median ratios, the
     * ratio over all the rounds together, and each server's CPU per request by thread (threads named alike summed).
     * {@code warm} rounds run first, alternated the same way, and are not counted (the JIT compiles for minutes).
     * Usage:
     * {@code ServerBench --pair NAME=URL@PID NAME=URL@PID [seconds] [rounds] [clients] [warm]}.
     */
    static void pair(String[] args) throws Exception {
        String[][] t = {args[1].split("[=@]"), args[2].split("[=@]")};
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 7;
        int clients = args.length > 5 ? Integer.parseInt(args[5]) : 16;
        int warm = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        HttpClient client = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        HttpRequest[] chat = new HttpRequest[2];
        for (int i = 0; i < 2; i++) {
            chat[i] = HttpRequest.newBuilder(URI.create(t[i][1] + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\","
                            + "\"content\":\"Once upon a time\"}],\"max_tokens\":1,\"temperature\":0}")).build();
            run(client, chat[i], clients, 3); // warm up
        }
        for (int r = 0; r < warm; r++) {
            for (int k = 0; k < 2; k++) {
                run(client, chat[(r + k) % 2], clients, seconds);
            }
        }
        long[] pids = {Long.parseLong(t[0][2]), Long.parseLong(t[1][2])};
        List<java.util.Map<String, Long>> threads0 = List.of(threadCpu(pids[0]), threadCpu(pids[1]));
        double[] served = new double[2];
        double[] spent = new double[2];
        double[] ratios = new double[rounds];
        double[] rateRatios = new double[rounds];
        long pid1 = Long.parseLong(t[1][2]);
        long store0 = threadCpuNanos(pid1, "corral-trace-st");
        double requests1 = 0;
        double cpuNanos1 = 0;
        for (int r = 0; r < rounds; r++) {
            double[] cpu = new double[2];
            double[] rate = new double[2];
            for (int k = 0; k < 2; k++) {
                int i = (r + k) % 2;
                long pid = Long.parseLong(t[i][2]);
                long cpu0 = cpuNanos(pid);
                double[] res = run(client, chat[i], clients, seconds);
                cpu[i] = (cpuNanos(pid) - cpu0) / 1e3 / (res[0] * seconds);
                rate[i] = res[0];
                served[i] += res[0] * seconds;
                spent[i] += cpuNanos(pid) - cpu0;
                if (i == 1) {
                    requests1 += res[0] * seconds;
                    cpuNanos1 += cpuNanos(pid) - cpu0;
                }
            }
            ratios[r] = cpu[1] / cpu[0];
            rateRatios[r] = rate[1] / rate[0];
            System.out.printf("  round %d: %s %.0f µs/req %.0f req/s, %s %.0f µs/req %.0f req/s: CPU %.3f, rate %.3f%n", r + 1,
                    t[0][0], cpu[0], rate[0], t[1][0], cpu[1], rate[1], ratios[r], rateRatios[r]);
        }
        double[] sorted = ratios.clone();
        java.util.Arrays.sort(sorted);
        System.out.printf("one-token chat, %d clients, %d rounds of %d s: %s / %s CPU per request, median %.3f (rounds %.3f-%.3f)%n",
                clients, rounds, seconds, t[1][0], t[0][0], sorted[rounds / 2], sorted[0], sorted[rounds - 1]);
        sorted = rateRatios.clone();
        java.util.Arrays.sort(sorted);
        System.out.printf("  %s / %s requests per second, median %.3f (rounds %.3f-%.3f)%n",
                t[1][0], t[0][0], sorted[rounds / 2], sorted[0], sorted[rounds - 1]);
        System.out.printf("  all rounds together: %s %.1f µs/req, %s %.1f µs/req: CPU %.3f%n", t[0][0], spent[0] / 1e3 / served[0],
                t[1][0], spent[1] / 1e3 / served[1], (spent[1] / served[1]) / (spent[0] / served[0]));
        List<java.util.Map<String, Long>> threads1 = List.of(threadCpu(pids[0]), threadCpu(pids[1]));
        java.util.Set<String> names = new java.util.TreeSet<>(threads1.get(0).keySet());
        names.addAll(threads1.get(1).keySet());
        System.out.printf("  CPU by thread, µs per request (%s / %s):%n", t[0][0], t[1][0]);
        for (String name : names) {
            double[] per = new double[2];
            for (int i = 0; i < 2; i++) {
                per[i] = (threads1.get(i).getOrDefault(name, 0L) - threads0.get(i).getOrDefault(name, 0L)) / 1e3 / served[i];
            }
            if (per[0] >= 0.5 || per[1] >= 0.5) {
                System.out.printf("    %-24s %7.1f %7.1f%n", name, per[0], per[1]);
            }
        }
        long store = threadCpuNanos(pid1, "corral-trace-st") - store0;
        if (store > 0) {
            System.out.printf("%s: its trace store's writer thread used %.1f µs per request, %.2f %% of the server's %.0f µs%n", t[1][0],
                    store / 1e3 / requests1, 100.0 * store / cpuNanos1, cpuNanos1 / 1e3 / requests1);
        }
    }

    /** The CPU time so far of the process's threads, by name (digits as {@code N}, so a pool's threads sum). */
    static java.util.Map<String, Long> threadCpu(long pid) throws java.io.IOException {
        java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
            for (java.nio.file.Path task : tasks.toList()) {
                try {
                    String name = java.nio.file.Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+", "N");
                    byName.merge(name, cpuNanos(task.resolve("stat")), Long::sum);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        return byName;
    }

    /** The CPU time so far (user + system) of the process's threads whose name begins with {@code name}. */
    static long threadCpuNanos(long pid, String name) throws java.io.IOException {
        long nanos = 0;
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
            for (java.nio.file.Path task : tasks.toList()) {
                try {
                    if (java.nio.file.Files.readString(task.resolve("comm")).strip().startsWith(name)) {
                        nanos += cpuNanos(task.resolve("stat"));
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        return nanos;
    }

    /**
     * Opens {@code n} streaming chat requests at once and keeps them open without reading, so the
     * server holds them all (two generating, the rest waiting for a context); prints when they are in.
     */
    static void hold(String url, int n) throws Exception {
        HttpClient client = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        HttpRequest stream = HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"Once upon a time\"}],\"max_tokens\":512,\"stream\":true}")).build();
        List<java.util.concurrent.CompletableFuture<HttpResponse<java.io.InputStream>>> open = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            open.add(client.sendAsync(stream, HttpResponse.BodyHandlers.ofInputStream()));
        }
        System.out.println("opened " + n + " streams");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /** The process's CPU time so far (user + system), or 0 when not asked. */
    static long cpuNanos(long pid) throws java.io.IOException {
        if (pid < 0) {
            return 0;
        }
        return cpuNanos(java.nio.file.Path.of("/proc/" + pid + "/stat"));
    }

    /** The CPU time (user + system) a {@code /proc} stat file of a process or a thread tells. */
    static long cpuNanos(java.nio.file.Path stat) throws java.io.IOException {
        String s = java.nio.file.Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    /** Returns req/s, p50 ms, p99 ms. */
    static double[] run(HttpClient client, HttpRequest request, int clients, int seconds) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> workers = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("status " + r.statusCode());
                        }
                        latencies.add(System.nanoTime() - t0);
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        }
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new double[]{sorted.length / (double) seconds, sorted[sorted.length / 2] / 1e6,
                sorted[(int) (sorted.length * 0.99)] / 1e6};
    }
}

package io.corral.bench;

import io.corral.engines.OnDemand;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Load on demand: the first-token time of a cold request (the model not loaded) against the model's load time plus a
 * warm request's first-token time, through {@code corral serve}'s stack with a model served on demand. Each round:
 * the load alone ({@link LlamaCppEngine#open}), a cold streamed completion, a warm one (each prompt opening with its
 * own words, so no cached prefix serves it), then the model unloaded through the admin route. Medians; the target is cold within 10 % of load + warm.
 * <p>{@code ColdStartBench MODEL [rounds]}
 */
public final class ColdStartBench {

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        LlamaCppConfig config = LlamaCppConfig.of(model).withId("m").withContextSize(2048).withParallel(1);
        OnDemand onDemand = new OnDemand(() -> List.of("m"), n -> n.equals("m") ? Optional.of(model) : Optional.empty(),
                (name, file) -> LlamaCppEngine.open(config), Duration.ofMinutes(5), Long.MAX_VALUE, Duration.ofMinutes(5),
                io.corral.routing.Ticker.system(), Clock.systemUTC());
        HttpClient http = HttpClient.newHttpClient();
        List<Double> loads = new ArrayList<>();
        List<Double> colds = new ArrayList<>();
        List<Double> warms = new ArrayList<>();
        try (onDemand; CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)).onDemand(onDemand).start()) {
            firstToken(http, server.url(), "Once"); // page cache and JIT warmed once, not counted
            unload(http, server.url());
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                LlamaCppEngine engine = LlamaCppEngine.open(config);
                loads.add((System.nanoTime() - t0) / 1e6);
                engine.close();
                colds.add(firstToken(http, server.url(), "Cold " + r));
                warms.add(firstToken(http, server.url(), "Warm " + r));
                unload(http, server.url());
            }
        }
        double load = median(loads);
        double cold = median(colds);
        double warm = median(warms);
        System.out.printf("cold start over %d rounds (medians): load %.0f ms, warm first token %.0f ms, cold first token %.0f ms;"
                        + " cold / (load + warm) = %.3f%n", rounds, load, warm, cold, cold / (load + warm));
        System.out.println("  loads " + loads + "\n  cold " + colds + "\n  warm " + warms);
    }

    /** A streamed request's first-token time; {@code opening} starts the prompt, so that no cached prefix is reused. */
    private static double firstToken(HttpClient http, String base, String opening) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\":\"m\",\"stream\":true,\"max_tokens\":4,\"temperature\":0,\"prompt\":\"" + opening
                        + ": write one short sentence about the sea and the wind over it.\"}")).build();
        long t0 = System.nanoTime();
        HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("status " + r.statusCode());
        }
        double first = -1;
        try (Stream<String> lines = r.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (first < 0 && line.startsWith("data: {") && line.contains("\"text\"")) {
                    first = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        return first;
    }

    private static void unload(HttpClient http, String base) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/admin/models/unload"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\"}")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("unload: " + r.statusCode() + " " + r.body());
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}

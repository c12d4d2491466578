package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code corral ps}: the models a running server has loaded, their size, processor and when they unload. */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = "List the models a running `corral serve` has loaded: size, CPU or GPU, and until when.")
final class PsCommand implements Callable<Integer> {

    @Option(names = "--url", description = "The server (default ${DEFAULT-VALUE}).", defaultValue = "http://127.0.0.1:8321")
    String url;

    @Option(names = "--api-key", description = "Its API key, if it needs one (also CORRAL_API_KEY).")
    String apiKey;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JsonNode body = ServerCall.send(url, "/api/ps", apiKey, null);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-40s %10s  %-16s %s%n", "NAME", "SIZE", "PROCESSOR", "UNTIL");
        Instant now = Instant.now();
        for (JsonNode m : body.path("models")) {
            out.printf("%-40s %10s  %-16s %s%n", m.path("name").asText(), PullCommand.size(m.path("size").asLong()),
                    processor(m.path("size").asLong(), m.path("size_vram").asLong()), until(m.path("expires_at").asText(), now));
        }
        out.flush();
        return 0;
    }

    /** As {@code ollama ps} says it: {@code 100% CPU}, {@code 100% GPU}, or the split. */
    static String processor(long size, long vram) {
        if (vram <= 0 || size <= 0) {
            return "100% CPU";
        }
        long gpu = Math.min(100, Math.round(100.0 * vram / size));
        return gpu >= 100 ? "100% GPU" : (100 - gpu) + "%/" + gpu + "% CPU/GPU";
    }

    static String until(String expiresAt, Instant now) {
        Instant at = Instant.parse(expiresAt);
        if (at.isAfter(now.plus(Duration.ofDays(365 * 100)))) {
            return "Forever";
        }
        long seconds = Math.max(0, Duration.between(now, at).toSeconds());
        return seconds < 60 ? seconds + " seconds from now"
                : seconds < 7200 ? (seconds + 30) / 60 + " minutes from now" : (seconds + 1800) / 3600 + " hours from now";
    }
}

package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.UnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "engines", mixinStandardHelpOptions = true,
        description = {"Show the engines a running `corral serve` knows, with their health;",
                "`corral engines reload` makes it discover them again."})
final class EnginesCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "reload", description = "reload: re-discover every host's models.")
    String action;

    @Option(names = "--url", description = "The server (default ${DEFAULT-VALUE}).", defaultValue = "http://127.0.0.1:8321")
    String url;

    @Option(names = "--api-key", description = "Its API key, if it needs one (also CORRAL_API_KEY).")
    String apiKey;

    @Option(names = "--json", description = "Print the JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (action != null && !action.equals("reload")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "unknown action '" + action + "' (reload?)");
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + "/v1/engines" + (action == null ? "" : "/reload")))
                .timeout(Duration.ofSeconds(30));
        String key = apiKey != null ? apiKey : System.getenv("CORRAL_API_KEY");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b = action == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.noBody());
        HttpResponse<String> r;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()) {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UnavailableException("no Corral server at " + url + " (start one with `corral serve`)");
        }
        JsonNode body = new ObjectMapper().readTree(r.body());
        if (r.statusCode() != 200) {
            throw new UnavailableException(url + " answered " + r.statusCode() + ": " + body.at("/error/message").asText());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(body.toPrettyString());
        } else {
            out.printf("%-36s %-20s %-9s %8s  %s%n", "ENGINE", "PROVIDER", "STATUS", "LATENCY", "MODELS / LAST ERROR");
            for (JsonNode e : body.path("data")) {
                String detail = e.path("status").asText().equals("down") ? e.path("last_error").asText() : join(e.path("models"));
                out.printf("%-36s %-20s %-9s %6dms  %s%n", e.path("id").asText(), e.path("provider").asText(),
                        e.path("status").asText(), e.path("latency_ms").asLong(), detail);
            }
        }
        out.flush();
        return 0;
    }

    private static String join(JsonNode models) {
        StringBuilder sb = new StringBuilder();
        models.forEach(m -> sb.append(sb.isEmpty() ? "" : ", ").append(m.asText()));
        return sb.toString();
    }
}

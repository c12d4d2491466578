package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
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
        JsonNode body = ServerCall.send(url, "/v1/engines" + (action == null ? "" : "/reload"), apiKey, action == null ? null : "");
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

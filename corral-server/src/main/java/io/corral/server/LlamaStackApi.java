package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.TokenStream;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Models, health, version, routes, providers, and the legacy Llama Stack 0.2.x
 * {@code /v1/inference/chat-completion}. No client is refused for its version.
 */
final class LlamaStackApi implements HttpService {

    static final String VERSION = "0.1.0";
    private static final List<String[]> ROUTES = List.of(
            new String[]{"GET", "/v1/models"}, new String[]{"GET", "/v1/models/{model_id}"},
            new String[]{"POST", "/v1/chat/completions"}, new String[]{"POST", "/v1/completions"},
            new String[]{"POST", "/v1/embeddings"},
            new String[]{"POST", "/v1/inference/chat-completion"}, new String[]{"GET", "/v1/health"},
            new String[]{"GET", "/v1/version"}, new String[]{"GET", "/v1/inspect/routes"},
            new String[]{"GET", "/v1/providers"}, new String[]{"GET", "/v1/providers/{provider_id}"});

    private final ModelDirectory models;
    private final java.util.function.Supplier<List<InferenceProvider>> engines;
    private final Http http;
    private final long created = System.currentTimeMillis() / 1000;

    LlamaStackApi(ModelDirectory models, java.util.function.Supplier<List<InferenceProvider>> engines, Http http) {
        this.models = models;
        this.engines = engines;
        this.http = http;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/v1/models", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
                    ArrayNode data = o.putArray("data");
                    models.list().forEach(m -> data.add(OpenAiResponses.model(m, created)));
                    http.json(res, Status.OK_200, o);
                })
                .get("/v1/models/*", (req, res) -> {
                    String id = req.path().path().substring("/v1/models/".length());
                    http.json(res, Status.OK_200, OpenAiResponses.model(models.get(id).info(), created));
                })
                .get("/v1/health", (req, res) -> http.json(res, Status.OK_200,
                        Json.MAPPER.createObjectNode().put("status", "OK")))
                // llama.cpp server's probe, so tools that supervise llama-server can supervise Corral
                .get("/health", (req, res) -> http.json(res, Status.OK_200,
                        Json.MAPPER.createObjectNode().put("status", "ok")))
                .get("/v1/version", (req, res) -> http.json(res, Status.OK_200,
                        Json.MAPPER.createObjectNode().put("version", VERSION)))
                .get("/v1/inspect/routes", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    for (String[] r : ROUTES) {
                        ObjectNode route = data.addObject().put("route", r[1]);
                        route.putArray("method").add(r[0]);
                        ArrayNode types = route.putArray("provider_types");
                        engines.get().forEach(p -> types.add(p.type()));
                    }
                    http.json(res, Status.OK_200, o);
                })
                .get("/v1/providers", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    engines.get().forEach(p -> data.add(provider(p)));
                    http.json(res, Status.OK_200, o);
                })
                .get("/v1/providers/*", (req, res) -> {
                    String id = req.path().path().substring("/v1/providers/".length());
                    InferenceProvider p = engines.get().stream().filter(x -> x.id().equals(id)).findFirst()
                            .orElseThrow(() -> ApiException.notFound("provider '" + id + "' not found"));
                    http.json(res, Status.OK_200, provider(p));
                })
                .post("/v1/inference/chat-completion", this::legacyChat);
    }

    private static ObjectNode provider(InferenceProvider p) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("api", "inference");
        o.put("provider_id", p.id());
        o.put("provider_type", p.type());
        ObjectNode config = o.putObject("config");
        config.put("vendor", p.vendor());
        ArrayNode caps = config.putArray("capabilities");
        p.capabilities().forEach(c -> caps.add(c.name().toLowerCase()));
        ArrayNode ms = config.putArray("models");
        p.models().stream().map(ModelInfo::id).forEach(ms::add);
        o.putObject("health").put("status", "OK");
        return o;
    }

    /** Llama Stack 0.2.x: {@code model_id}, {@code messages}, {@code sampling_params}, {@code stream}. */
    private void legacyChat(ServerRequest req, ServerResponse res) throws Exception {
        JsonNode body = http.body(req);
        String model = body.path("model_id").asText("");
        if (model.isBlank()) {
            throw ApiException.badRequest("model_id", "model_id is required");
        }
        List<ChatMessage> messages = new ArrayList<>();
        JsonNode ms = body.path("messages");
        if (!ms.isArray() || ms.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty array");
        }
        for (JsonNode m : ms) {
            Role role = switch (m.path("role").asText("")) {
                case "system" -> Role.SYSTEM;
                case "assistant" -> Role.ASSISTANT;
                case "tool", "ipython" -> Role.TOOL;
                case "user" -> Role.USER;
                default -> throw ApiException.badRequest("messages", "unknown role '" + m.path("role").asText() + "'");
            };
            JsonNode c = m.path("content");
            String text = c.isTextual() ? c.asText() : c.path("text").asText(c.toString());
            messages.add(ChatMessage.of(role, text));
        }
        ChatRequest request = new ChatRequest(model, messages, legacySampling(body.path("sampling_params")), null);
        try (AutoCloseable admitted = models.admit(model);
             TokenStream tokens = models.get(model).provider().stream(request)) {
            if (!body.path("stream").asBoolean(false)) {
                ChatResult r = tokens.result();
                ObjectNode o = Json.MAPPER.createObjectNode();
                ObjectNode cm = o.putObject("completion_message");
                cm.put("role", "assistant");
                cm.put("content", r.text());
                cm.put("stop_reason", stopReason(r.finishReason()));
                cm.putArray("tool_calls");
                o.set("metrics", metrics(r));
                http.log(req, 200, model, r);
                http.json(res, Status.OK_200, o);
                return;
            }
            res.status(Status.OK_200);
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            try (OutputStream out = res.outputStream()) {
                Sse sse = new Sse(out);
                try {
                    sse.data(event("start", ""));
                    while (tokens.hasNext()) {
                        sse.data(event("progress", tokens.next()));
                    }
                    ChatResult r = tokens.result();
                    ObjectNode done = event("complete", "");
                    ((ObjectNode) done.get("event")).put("stop_reason", stopReason(r.finishReason()));
                    ((ObjectNode) done.get("event")).set("metrics", metrics(r));
                    sse.data(done);
                    http.log(req, 200, model, r);
                } catch (Sse.ClientGone gone) {
                    tokens.cancel();
                }
            }
        }
    }

    private static SamplingParams legacySampling(JsonNode p) {
        SamplingParams.Builder b = SamplingParams.DEFAULTS.toBuilder();
        JsonNode strategy = p.path("strategy");
        switch (strategy.path("type").asText("greedy")) {
            case "greedy" -> b.temperature(0);
            case "top_p" -> b.temperature(strategy.path("temperature").asDouble(0.8)).topP(strategy.path("top_p").asDouble(0.95));
            case "top_k" -> b.topK(strategy.path("top_k").asInt(40));
            default -> throw ApiException.badRequest("sampling_params.strategy.type",
                    "strategy must be greedy, top_p or top_k");
        }
        if (p.hasNonNull("max_tokens") && p.get("max_tokens").asInt() > 0) {
            b.maxTokens(p.get("max_tokens").asInt());
        }
        if (p.hasNonNull("repetition_penalty")) {
            b.repeatPenalty(p.get("repetition_penalty").asDouble());
        }
        if (p.path("stop").isArray()) {
            List<String> stops = new ArrayList<>();
            p.get("stop").forEach(s -> stops.add(s.asText()));
            b.stop(stops);
        }
        return b.build();
    }

    private static String stopReason(FinishReason r) {
        return r == FinishReason.LENGTH ? "out_of_tokens" : "end_of_turn";
    }

    private static ObjectNode event(String type, String text) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode e = o.putObject("event");
        e.put("event_type", type);
        e.putObject("delta").put("type", "text").put("text", text);
        return o;
    }

    private static ArrayNode metrics(ChatResult r) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        a.addObject().put("metric", "prompt_tokens").put("value", r.usage().promptTokens()).put("unit", "tokens");
        a.addObject().put("metric", "completion_tokens").put("value", r.usage().completionTokens()).put("unit", "tokens");
        a.addObject().put("metric", "total_tokens").put("value", r.usage().totalTokens()).put("unit", "tokens");
        return a;
    }
}

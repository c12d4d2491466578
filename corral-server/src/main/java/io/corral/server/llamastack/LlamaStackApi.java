package io.corral.server.llamastack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.server.http.AccessLog;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.EventStream;
import io.corral.server.http.Fields;
import io.corral.server.http.Json;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.http.Streams;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Llama Stack's own routes: health, version, routes, providers, and the legacy 0.2.x
 * {@code /v1/inference/chat-completion}. No client is refused for its version.
 */
public final class LlamaStackApi implements Routes.Api {

    public static final String VERSION = "0.1.0";

    private final ModelDirectory models;
    private final Supplier<List<InferenceProvider>> engines;
    private final AccessLog log;
    private final Streams streams;
    private final io.corral.spi.Guardrail guardrail;
    private Routes routes;

    private final io.corral.api.UrlPolicy urls; // where an image's URL may lead

    public LlamaStackApi(ModelDirectory models, Supplier<List<InferenceProvider>> engines, AccessLog log, Streams streams,
                         io.corral.spi.Guardrail guardrail, io.corral.api.UrlPolicy urls) {
        this.guardrail = guardrail;
        this.urls = urls;
        this.models = models;
        this.engines = engines;
        this.log = log;
        this.streams = streams;
    }

    @Override
    public void routes(Routes r) {
        this.routes = r;
        // the inspection routes, also where Llama Stack 0.7 puts them beside: /v1alpha/admin/...
        for (String base : List.of("/v1", "/v1alpha/admin")) {
            r.get(base + "/health", (req, res) -> res.json(200, Json.MAPPER.createObjectNode().put("status", "OK")))
                    .get(base + "/version", (req, res) -> res.json(200, Json.MAPPER.createObjectNode().put("version", VERSION)))
                    .get(base + "/inspect/routes", this::inspectRoutes)
                    .get(base + "/providers", (req, res) -> {
                        ObjectNode o = Json.MAPPER.createObjectNode();
                        ArrayNode data = o.putArray("data");
                        engines.get().forEach(p -> data.add(provider(p)));
                        res.json(200, o);
                    })
                    .get(base + "/providers/{provider_id}", (req, res) -> {
                        String id = req.param("provider_id");
                        InferenceProvider p = engines.get().stream().filter(x -> x.id().equals(id)).findFirst()
                                .orElseThrow(() -> ApiException.notFound("provider '" + id + "' not found"));
                        res.json(200, provider(p));
                    });
        }
        // llama.cpp server's probe, so tools that supervise llama-server can supervise Corral
        r.get("/health", (req, res) -> res.json(200, Json.MAPPER.createObjectNode().put("status", "ok")))
                .post("/v1/inference/chat-completion", this::legacyChat);
    }

    /** Llama Stack 0.2.x's routes, which 0.7 lists as deprecated. */
    private static final List<String> DEPRECATED = List.of("/v1/inference/", "/v1/agents", "/v1/vector-dbs", "/v1/tool-runtime/",
            "/v1/telemetry/");

    /** Every route, or those of one level when {@code api_filter} names it: v1, v1alpha, v1beta, or deprecated. */
    private void inspectRoutes(Request req, Response res) {
        String filter = req.query("api_filter");
        java.util.function.Predicate<String> keep = switch (filter == null || filter.isBlank() ? "" : filter) {
            case "" -> path -> true;
            case "v1" -> path -> path.startsWith("/v1/") && DEPRECATED.stream().noneMatch(path::startsWith);
            case "v1alpha" -> path -> path.startsWith("/v1alpha/");
            case "v1beta" -> path -> path.startsWith("/v1beta/");
            case "deprecated" -> path -> DEPRECATED.stream().anyMatch(path::startsWith);
            default -> throw ApiException.badRequest("api_filter", "api_filter must be v1, v1alpha, v1beta or deprecated, was '" + filter + "'");
        };
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode data = o.putArray("data");
        for (Routes.Route route : routes.all()) {
            if (!keep.test(route.pattern())) {
                continue;
            }
            ObjectNode entry = data.addObject().put("route", route.pattern());
            entry.putArray("method").add(route.method());
            ArrayNode types = entry.putArray("provider_types");
            engines.get().forEach(p -> types.add(p.type()));
        }
        res.json(200, o);
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
    private void legacyChat(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
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
            messages.add(new ChatMessage(role, content(m.path("content"), "messages[" + messages.size() + "].content"), null, null));
        }
        urls.checkImages(messages);
        ChatRequest request = new ChatRequest(model, messages, legacySampling(body.path("sampling_params")), null);
        req.model(model);
        io.corral.spi.Guardrail.Checks checks = guardrail.checks(model, List.of()); // the config's, as on every generating route
        if (checks.any()) {
            checks.input(messages);
        }
        try (AutoCloseable admitted = models.admit(model);
             TokenStream tokens = checks.output(models.get(model).provider()).stream(request);
             AutoCloseable tracked = streams.track(tokens)) {
            if (!body.path("stream").asBoolean(false)) {
                ChatResult r = tokens.result();
                ObjectNode o = Json.MAPPER.createObjectNode();
                ObjectNode cm = o.putObject("completion_message");
                cm.put("role", "assistant");
                cm.put("content", r.text());
                cm.put("stop_reason", stopReason(r.finishReason()));
                cm.putArray("tool_calls");
                o.set("metrics", metrics(r));
                req.tokens(r.usage().promptTokens(), r.usage().completionTokens());
                log.content(req, body, r.text());
                res.json(200, o);
                return;
            }
            EventStream sse = res.events();
            try {
                sse.data(event("start", ""));
                while (tokens.hasNext()) {
                    if (tokens.next() instanceof StreamEvent.Text t) {
                        req.firstToken();
                        sse.data(event("progress", t.text()));
                    }
                }
                ChatResult r = tokens.result();
                req.tokens(r.usage().promptTokens(), r.usage().completionTokens());
                if (streams.stopping() && r.finishReason() == FinishReason.CANCELLED) {
                    sse.fail(Errors.SHUTTING_DOWN);
                    return;
                }
                ObjectNode done = event("complete", "");
                ((ObjectNode) done.get("event")).put("stop_reason", stopReason(r.finishReason()));
                ((ObjectNode) done.get("event")).set("metrics", metrics(r));
                sse.data(done);
                log.content(req, body, r.text());
            } catch (EventStream.ClientGone gone) {
                tokens.cancel();
                throw gone;
            } catch (RuntimeException e) {
                sse.fail(Errors.map(e));
            }
        }
    }

    /** Llama Stack 0.2.x's {@code sampling_params}, each field checked (a wrong type is a 400 naming it, not ignored). */
    private static SamplingParams legacySampling(JsonNode p) {
        SamplingParams.Builder b = SamplingParams.DEFAULTS.toBuilder();
        if (p.isMissingNode() || p.isNull()) {
            return b.temperature(0).build();
        }
        if (!p.isObject()) {
            throw ApiException.badRequest("sampling_params", "sampling_params must be an object");
        }
        JsonNode strategy = p.path("strategy");
        String s = "sampling_params.strategy.";
        switch (strategy.path("type").asText("greedy")) {
            case "greedy" -> b.temperature(0);
            case "top_p" -> b.temperature(number(strategy, "temperature", s, 0.8)).topP(number(strategy, "top_p", s, 0.95));
            case "top_k" -> b.topK((int) number(strategy, "top_k", s, 40));
            default -> throw ApiException.badRequest("sampling_params.strategy.type",
                    "strategy must be greedy, top_p or top_k");
        }
        if (number(p, "max_tokens", "sampling_params.", 0) > 0) {
            b.maxTokens((int) number(p, "max_tokens", "sampling_params.", 0));
        }
        if (p.hasNonNull("repetition_penalty")) {
            b.repeatPenalty(number(p, "repetition_penalty", "sampling_params.", 1));
        }
        List<String> stop = Fields.strings(p, "stop", "sampling_params.stop");
        if (stop != null) {
            b.stop(stop);
        }
        return b.build();
    }

    /** {@code o.key}, a number, or {@code fallback} when absent; any other type is a 400 naming {@code prefix + key}. */
    private static double number(JsonNode o, String key, String prefix, double fallback) {
        Double v = Fields.number(o, key, prefix + key);
        return v == null ? fallback : v;
    }

    private static String stopReason(FinishReason r) {
        return r == FinishReason.LENGTH ? "out_of_tokens" : "end_of_turn";
    }

    /**
     * Llama Stack's interleaved content: a string, one item or a list of them; an item is {@code {type: text, text}}
     * or {@code {type: image, image: {url: {uri}} | {data: BASE64}}}.
     */
    static List<io.corral.api.ContentPart> content(JsonNode c, String param) {
        if (c.isTextual()) {
            return List.of(io.corral.api.ContentPart.text(c.asText()));
        }
        List<JsonNode> items = new ArrayList<>();
        if (c.isArray()) {
            c.forEach(items::add);
        } else if (c.isObject()) {
            items.add(c);
        } else {
            throw ApiException.badRequest(param, param + " must be a string, a content item or a list of them");
        }
        List<io.corral.api.ContentPart> parts = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            String at = c.isArray() ? param + "[" + i + "]" : param;
            switch (item.path("type").asText("")) {
                case "text" -> parts.add(io.corral.api.ContentPart.text(item.path("text").asText("")));
                case "image" -> {
                    JsonNode image = item.path("image");
                    String uri = image.path("url").path("uri").asText("");
                    if (!uri.isEmpty()) {
                        parts.add(io.corral.api.ContentPart.image(uri));
                    } else if (image.path("data").isTextual()) {
                        parts.add(io.corral.api.ContentPart.imageBase64(image.path("data").asText()));
                    } else {
                        throw ApiException.badRequest(at, at + ".image needs url.uri or data");
                    }
                }
                default -> throw ApiException.badRequest(at, "unsupported content item type '" + item.path("type").asText()
                        + "' (text and image are)");
            }
        }
        return parts;
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

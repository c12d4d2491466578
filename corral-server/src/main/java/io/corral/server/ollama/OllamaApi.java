package io.corral.server.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.ContentPart;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.FinishReason;
import io.corral.api.ResponseFormat;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.TokenStream;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.EventStream;
import io.corral.server.http.Fields;
import io.corral.server.http.Json;
import io.corral.server.http.KeepAlive;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.http.Streams;
import io.corral.spi.Capability;
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.ModelType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Ollama's own API on the same port, so apps that speak it point at Corral unchanged: {@code /api/chat} and
 * {@code /api/generate} (streamed as JSON lines by default, as Ollama does; {@code options}, {@code format} "json" or a
 * schema, {@code tools}, {@code images}, {@code raw}, {@code system}), {@code /api/embed} and {@code /api/embeddings},
 * {@code /api/tags}, {@code /api/show}, {@code /api/ps}, {@code /api/version}; {@code GET /} ("Ollama is running",
 * which clients probe) is the playground's route, which says so to anyone but a browser. Every engine Corral serves answers; the config's guardrails apply as on the other routes.
 */
public final class OllamaApi implements Routes.Api {

    /** The Ollama version this API follows (clients read it to know what they may send). */
    static final String VERSION = "0.12.0";

    private final ModelDirectory models;
    private final Streams streams;
    private final Guardrail guardrail;
    private final io.corral.spi.ModelLibrary library;
    private final io.corral.spi.OnDemandModels onDemand;
    /** When this server started: the {@code modified_at} of a model with no file. */
    private final String started = Instant.now().toString();

    /**
     * @param library  the pulled models ({@code /api/pull}, {@code /api/delete}, {@code /api/copy}), or null for none
     * @param onDemand the models loaded on demand ({@code keep_alive}, loading and unloading, {@code /api/ps}), or null
     */
    public OllamaApi(ModelDirectory models, Streams streams, Guardrail guardrail, io.corral.spi.ModelLibrary library,
                     io.corral.spi.OnDemandModels onDemand) {
        this.models = models;
        this.streams = streams;
        this.guardrail = guardrail;
        this.library = library;
        this.onDemand = onDemand;
    }

    @Override
    public void routes(Routes r) {
        r.get("/api/version", (req, res) -> res.json(200, Json.MAPPER.createObjectNode().put("version", VERSION)))
                .get("/api/tags", (req, res) -> res.json(200, tags()))
                .get("/api/ps", (req, res) -> res.json(200, running()))
                .post("/api/show", this::show)
                .post("/api/chat", this::chat)
                .post("/api/generate", this::generate)
                .post("/api/embed", this::embed)
                .post("/api/embeddings", this::embeddings);
        if (library != null) {
            r.post("/api/pull", this::pull)
                    .delete("/api/delete", (req, res) -> {
                        library.delete(name(Json.parse(req.body())));
                        res.json(200, Json.MAPPER.createObjectNode());
                    })
                    .post("/api/copy", (req, res) -> {
                        JsonNode body = Json.parse(req.body());
                        String from = body.path("source").asText("");
                        String to = body.path("destination").asText("");
                        if (from.isBlank() || to.isBlank()) {
                            throw ApiException.badRequest("source", "source and destination are required");
                        }
                        library.copy(from, to);
                        res.json(200, Json.MAPPER.createObjectNode());
                    });
        }
    }

    /** {@code /api/pull}: Ollama's progress lines ({@code pulling manifest}, downloads, {@code success}), or one answer. */
    private void pull(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String ref = name(body);
        if (!body.path("stream").asBoolean(true)) {
            library.pull(ref, p -> { });
            res.json(200, Json.MAPPER.createObjectNode().put("status", "success"));
            return;
        }
        EventStream[] lines = new EventStream[1];
        try {
            library.pull(ref, p -> {
                if (lines[0] == null) {
                    lines[0] = res.jsonLines();
                }
                ObjectNode o = Json.MAPPER.createObjectNode().put("status", p.status());
                if (p.digest() != null) {
                    o.put("digest", p.digest());
                }
                if (p.total() > 0) {
                    o.put("total", p.total()).put("completed", p.completed());
                }
                lines[0].data(o);
            });
        } catch (EventStream.ClientGone gone) {
            throw gone;
        } catch (RuntimeException e) {
            if (lines[0] == null) {
                throw e;
            }
            lines[0].fail(Errors.map(e));
        }
    }

    private ObjectNode tags() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode list = o.putArray("models");
        for (ModelInfo m : models.list()) {
            ObjectNode e = list.addObject().put("name", m.id()).put("model", m.id()).put("modified_at", modified(m))
                    .put("size", size(m.metadata())).put("digest", digest(m.id(), m.metadata()));
            e.set("details", details(m));
        }
        return o;
    }

    /**
     * {@code /api/ps}: the models loaded now. Those loaded on demand with their size, when they unload
     * ({@code expires_at}) and the GPU memory they took ({@code size_vram}); the others are loaded until Corral stops.
     */
    private ObjectNode running() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode list = o.putArray("models");
        java.util.Set<String> onDemandNames = new java.util.HashSet<>(onDemand == null ? List.of() : onDemand.names());
        if (onDemand != null) {
            for (io.corral.spi.OnDemandModels.Loaded l : onDemand.loaded()) {
                ObjectNode e = list.addObject().put("name", l.name()).put("model", l.name()).put("size", l.bytes())
                        .put("digest", digest(l.name(), l.details()));
                e.set("details", details(ModelInfo.llm(l.name(), "on-demand", 0, java.util.Set.of(), l.details())));
                e.put("expires_at", l.expiresAt() == null ? FOREVER : l.expiresAt().toString())
                        .put("size_vram", vram(l.details()));
            }
        }
        for (ModelInfo m : models.list()) {
            if (m.provider().equals("on-demand") || onDemandNames.contains(m.id())) {
                continue; // pulled: listed above when loaded
            }
            ObjectNode e = list.addObject().put("name", m.id()).put("model", m.id()).put("size", size(m.metadata()))
                    .put("digest", digest(m.id(), m.metadata()));
            e.set("details", details(m));
            e.put("expires_at", FOREVER).put("size_vram", vram(m.metadata())); // loaded until Corral stops
        }
        return o;
    }

    private static final String FOREVER = "2318-06-12T00:00:00Z";

    /** When the model's file last changed (Ollama's {@code modified_at}), or when this server started for a model with none. */
    private String modified(ModelInfo m) {
        if (m.metadata().get("file") instanceof String f) {
            try {
                return java.nio.file.Files.getLastModifiedTime(java.nio.file.Path.of(f)).toInstant().toString();
            } catch (java.io.IOException | RuntimeException e) {
                // gone or unreadable: the start time below
            }
        }
        return started;
    }

    /**
     * A model's digest as Ollama lists it: the sha256 of a pulled model's file (it is kept as {@code sha256-<digest>}),
     * else a hash of its name (a file Corral did not pull is not read whole to list it).
     */
    private static String digest(String name, java.util.Map<String, Object> metadata) {
        if (metadata.get("file") instanceof String f) {
            String file = java.nio.file.Path.of(f).getFileName().toString();
            if (file.length() == 71 && file.startsWith("sha256-") && file.substring(7).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return file.substring(7);
            }
        }
        return Integer.toHexString(name.hashCode());
    }

    private static long size(java.util.Map<String, Object> metadata) {
        return metadata.get("file_size") instanceof Number n ? n.longValue() : 0;
    }

    private static long vram(java.util.Map<String, Object> metadata) {
        return metadata.get("device_memory") instanceof Number n ? n.longValue() : 0;
    }

    /**
     * After a request: a model loaded on demand is kept for the request's {@code keep_alive}, or the default (a model
     * that is not one is left alone by {@code keepAlive}).
     */
    private void keep(String model, java.time.Duration keepAlive) {
        if (onDemand != null) {
            onDemand.keepAlive(model, keepAlive);
        }
    }

    /**
     * A request with nothing to generate: Ollama's way to load a model ({@code done_reason} "load") or, with
     * {@code keep_alive} 0, to unload it ("unload").
     */
    private void loadOrUnload(Response res, String model, boolean chat, java.time.Duration keepAlive) {
        res.json(200, line(model, chat, "", List.of(), loadOrUnload(model, keepAlive) ? "load" : "unload"));
    }

    /**
     * Loads {@code model} and keeps it for {@code keepAlive}, or unloads it when that is 0 (a model that is not loaded on
     * demand is left as it is); true for a load. A model nobody serves is a 404.
     */
    private boolean loadOrUnload(String model, java.time.Duration keepAlive) {
        boolean onDemandModel = onDemand != null && onDemand.names().contains(model);
        boolean load = !java.time.Duration.ZERO.equals(keepAlive);
        if (!onDemandModel) {
            models.get(model); // 404 for a model nobody serves
        } else if (load) {
            onDemand.get(model);
            onDemand.keepAlive(model, keepAlive);
        } else {
            onDemand.unload(model);
        }
        return load;
    }

    /**
     * Ollama's {@code details}: the family is the model's architecture, the parameter size as Ollama writes it
     * ({@link #humanNumber}), the quantization the file type's name; empty where the model does not say (a remote one).
     */
    private static ObjectNode details(ModelInfo m) {
        java.util.Map<String, Object> md = m.metadata();
        Object format = md.containsKey("format") ? md.get("format") : md.containsKey("gguf_version") ? "gguf" : "";
        ObjectNode d = Json.MAPPER.createObjectNode().put("parent_model", "").put("format", format.toString());
        String family = architecture(md);
        d.put("family", family == null ? "" : family);
        if (family == null) {
            d.putNull("families");
        } else {
            d.putArray("families").add(family);
        }
        d.put("parameter_size", md.get("parameters") instanceof Number n && n.longValue() > 0 ? humanNumber(n.longValue()) : "");
        d.put("quantization_level", md.get("quantization") instanceof String q ? q : "");
        return d;
    }

    private static String architecture(java.util.Map<String, Object> md) {
        Object a = md.containsKey("architecture") ? md.get("architecture") : md.get("general.architecture");
        return a == null || a.toString().isBlank() ? null : a.toString();
    }

    /** A parameter count as Ollama shows it: {@code 8.0B}, {@code 1.24M} (whole numbers without decimals), {@code 293K}. */
    static String humanNumber(long n) {
        if (n >= 1_000_000_000L) {
            double b = n / 1e9;
            return String.format(java.util.Locale.ROOT, b == Math.floor(b) ? "%.0fB" : "%.1fB", b);
        }
        if (n >= 1_000_000L) {
            double m = n / 1e6;
            return String.format(java.util.Locale.ROOT, m == Math.floor(m) ? "%.0fM" : "%.2fM", m);
        }
        if (n >= 1_000L) {
            return String.format(java.util.Locale.ROOT, "%.0fK", n / 1e3);
        }
        return Long.toString(n);
    }

    /** GGUF's names for what Corral's metadata calls otherwise, as Ollama's {@code model_info} gives them. */
    private static final java.util.Map<String, String> GGUF_KEYS = java.util.Map.of(
            "context_length", "context_length", "embedding_length", "embedding_length", "layers", "block_count",
            "heads", "attention.head_count", "heads_kv", "attention.head_count_kv", "vocab_size", "vocab_size");

    /**
     * Ollama's {@code model_info}: the GGUF keys clients read ({@code general.architecture}, {@code
     * general.parameter_count}, {@code <arch>.context_length}, the model's trained window, and the like), then Corral's own.
     */
    private static ObjectNode modelInfo(ModelInfo m) {
        ObjectNode info = Json.MAPPER.createObjectNode();
        java.util.Map<String, Object> md = m.metadata();
        String arch = architecture(md);
        if (arch != null) {
            info.put("general.architecture", arch);
            if (md.get("parameters") instanceof Number n && n.longValue() > 0) {
                info.put("general.parameter_count", n.longValue());
            }
            GGUF_KEYS.forEach((ours, gguf) -> {
                if (md.get(ours) instanceof Number n && n.longValue() > 0) {
                    info.put(arch + "." + gguf, n.longValue());
                }
            });
        }
        md.forEach((k, v) -> info.set(k, Json.MAPPER.valueToTree(v)));
        if (m.contextLength() > 0) {
            info.put("context_length", m.contextLength());
        }
        return info;
    }

    private void show(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String name = name(body);
        ModelInfo m = models.get(name).info();
        ObjectNode o = Json.MAPPER.createObjectNode().put("modelfile", "FROM " + m.id()).put("parameters", "").put("template", "");
        o.set("details", details(m));
        o.set("model_info", modelInfo(m));
        o.put("modified_at", modified(m));
        ArrayNode caps = o.putArray("capabilities");
        if (m.type() == ModelType.EMBEDDING) {
            caps.add("embedding");
        } else {
            caps.add("completion");
            if (m.capabilities().contains(Capability.TOOLS)) {
                caps.add("tools");
            }
            if (m.capabilities().contains(Capability.VISION)) {
                caps.add("vision");
            }
        }
        res.json(200, o);
    }

    private static String name(JsonNode body) {
        String n = body.path("model").asText(body.path("name").asText(""));
        if (n.isBlank()) {
            throw ApiException.badRequest("model", "model is required");
        }
        return n;
    }

    // ---- generation ----

    private void chat(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        String model = name(body);
        JsonNode ms = body.get("messages");
        if (ms != null && !ms.isNull() && !ms.isArray()) {
            throw ApiException.badRequest("messages", "messages must be a list of messages");
        }
        List<ChatMessage> messages = new ArrayList<>();
        if (ms != null && ms.isArray()) {
            for (int i = 0; i < ms.size(); i++) {
                messages.add(message(ms.get(i), "messages[" + i + "]"));
            }
        }
        java.time.Duration keepAlive = KeepAlive.of(body);
        if (messages.isEmpty()) { // Ollama's way of loading (or unloading) a model: an empty chat
            loadOrUnload(res, model, true, keepAlive);
            return;
        }
        List<ToolSpec> tools = tools(body.get("tools"));
        ChatRequest ask = new ChatRequest(model, messages, sampling(body.path("options")), format(body.get("format")), tools,
                ToolChoice.AUTO);
        run(req, res, body, model, messages, p -> p.stream(ask), true);
    }

    private void generate(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        String model = name(body);
        String prompt = body.path("prompt").asText("");
        java.time.Duration keepAlive = KeepAlive.of(body);
        if (prompt.isEmpty()) { // loading (or unloading) a model: nothing to generate
            loadOrUnload(res, model, false, keepAlive);
            return;
        }
        SamplingParams sampling = sampling(body.path("options"));
        ResponseFormat format = format(body.get("format"));
        List<ChatMessage> messages = new ArrayList<>();
        if (body.hasNonNull("system")) {
            messages.add(ChatMessage.system(body.get("system").asText()));
        }
        messages.add(images(ChatMessage.user(prompt), body.get("images")));
        if (body.path("raw").asBoolean(false)) {
            CompletionRequest ask = new CompletionRequest(model, prompt, sampling, format);
            run(req, res, body, model, messages, p -> p.stream(ask), false);
        } else {
            ChatRequest ask = new ChatRequest(model, messages, sampling, format);
            run(req, res, body, model, messages, p -> p.stream(ask), false);
        }
    }

    /** Runs one generation: guarded, admitted, then one JSON answer or (by default) its JSON lines. */
    private void run(Request req, Response res, JsonNode body, String model, List<ChatMessage> messages,
                     java.util.function.Function<InferenceProvider, TokenStream> start, boolean chat) throws Exception {
        req.model(model);
        Guardrail.Checks checks = guardrail.checks(model, List.of());
        if (checks.any()) {
            checks.input(messages);
        }
        long begin = System.nanoTime();
        java.time.Duration keepAlive = KeepAlive.of(body);
        try (AutoCloseable admitted = models.admit(model); AutoCloseable kept = () -> keep(model, keepAlive)) {
            InferenceProvider provider = checks.output(models.get(model).provider());
            boolean stream = body.path("stream").asBoolean(true);
            try (TokenStream tokens = start.apply(provider); AutoCloseable tracked = streams.track(tokens)) {
                if (!stream) {
                    ChatResult r = tokens.result();
                    req.tokens(r.usage().promptTokens(), r.usage().completionTokens());
                    ObjectNode o = line(model, chat, r.text(), r.toolCalls(), reason(r.finishReason()));
                    stats(o, r, begin);
                    res.json(200, o);
                    return;
                }
                EventStream lines = res.jsonLines();
                try {
                    while (tokens.hasNext()) {
                        if (tokens.next() instanceof StreamEvent.Text t && !t.text().isEmpty()) {
                            req.firstToken();
                            lines.data(line(model, chat, t.text(), List.of(), null));
                        }
                    }
                    ChatResult r = tokens.result();
                    req.tokens(r.usage().promptTokens(), r.usage().completionTokens());
                    ObjectNode o = line(model, chat, "", r.toolCalls(), reason(r.finishReason()));
                    stats(o, r, begin);
                    lines.data(o);
                } catch (EventStream.ClientGone gone) {
                    tokens.cancel();
                    throw gone;
                } catch (RuntimeException e) {
                    lines.fail(Errors.map(e));
                }
            }
        }
    }

    /**
     * One answer line in Ollama's order: model, time, the text (a chat's {@code message} with its tool calls, or a
     * generation's {@code response}), then {@code done} and, on the last line, {@code done_reason}.
     */
    private static ObjectNode line(String model, boolean chat, String text, List<ToolCall> calls, String doneReason) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("model", model).put("created_at", Instant.now().toString());
        if (chat) {
            ObjectNode m = o.putObject("message").put("role", "assistant").put("content", text);
            if (!calls.isEmpty()) {
                ArrayNode tc = m.putArray("tool_calls");
                for (ToolCall c : calls) {
                    ObjectNode f = tc.addObject().putObject("function").put("name", c.name());
                    try {
                        f.set("arguments", Json.MAPPER.readTree(c.arguments()));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        f.put("arguments", c.arguments());
                    }
                }
            }
        } else {
            o.put("response", text);
        }
        o.put("done", doneReason != null);
        if (doneReason != null) {
            o.put("done_reason", doneReason);
        }
        return o;
    }

    private static void stats(ObjectNode o, ChatResult r, long begin) {
        long total = System.nanoTime() - begin;
        o.put("total_duration", total).put("load_duration", 0)
                .put("prompt_eval_count", r.usage().promptTokens())
                .put("prompt_eval_duration", r.metrics().timeToFirstToken().toNanos())
                .put("eval_count", r.usage().completionTokens())
                .put("eval_duration", Math.max(0, total - r.metrics().timeToFirstToken().toNanos()));
    }

    private static String reason(FinishReason f) {
        return f == FinishReason.LENGTH ? "length" : "stop";
    }

    /** Ollama's message: role, content, images (base64), tool calls, a tool's result. */
    private static ChatMessage message(JsonNode m, String where) {
        Role role = switch (m.path("role").asText("")) {
            case "system" -> Role.SYSTEM;
            case "user" -> Role.USER;
            case "assistant" -> Role.ASSISTANT;
            case "tool" -> Role.TOOL;
            default -> throw ApiException.badRequest("messages", where + ".role must be system, user, assistant or tool");
        };
        String content = m.path("content").asText("");
        List<ToolCall> calls = new ArrayList<>();
        int n = 0;
        for (JsonNode c : m.path("tool_calls")) {
            JsonNode f = c.path("function");
            calls.add(new ToolCall("call_" + n++, f.path("name").asText(), f.path("arguments").isTextual()
                    ? f.path("arguments").asText() : Json.text(f.path("arguments"))));
        }
        ChatMessage msg = new ChatMessage(role, List.of(ContentPart.text(content)), calls,
                role == Role.TOOL ? m.path("tool_name").asText(m.path("tool_call_id").asText("call_0")) : null);
        return images(msg, m.get("images"));
    }

    private static ChatMessage images(ChatMessage m, JsonNode images) {
        if (images == null || !images.isArray() || images.isEmpty()) {
            return m;
        }
        List<ContentPart> parts = new ArrayList<>(); // before the text, as Ollama puts a message's images
        for (JsonNode i : images) {
            parts.add(ContentPart.imageBase64(i.asText()));
        }
        parts.addAll(m.content());
        return new ChatMessage(m.role(), parts, m.toolCalls(), m.toolCallId());
    }

    /** {@code tools}: a list of {@code {type: function, function: {name, description, parameters}}}; a 400 otherwise. */
    private static List<ToolSpec> tools(JsonNode tools) {
        List<ToolSpec> out = new ArrayList<>();
        if (tools == null || tools.isNull()) {
            return out;
        }
        if (!tools.isArray()) {
            throw ApiException.badRequest("tools", "tools must be a list of tools");
        }
        for (int i = 0; i < tools.size(); i++) {
            JsonNode f = tools.get(i).path("function");
            if (!f.path("name").isTextual() || f.path("name").asText().isBlank()) {
                throw ApiException.badRequest("tools", "tools[" + i + "].function.name is required");
            }
            out.add(new ToolSpec(f.path("name").asText(), f.path("description").asText(null),
                    f.hasNonNull("parameters") ? Json.text(f.get("parameters")) : null));
        }
        return out;
    }

    /**
     * Ollama's {@code options}, each checked as Ollama checks them: a number where a number belongs (integers are cut to
     * whole ones, as Ollama does), a list of strings for {@code stop}; anything else is a 400 naming the option.
     */
    static SamplingParams sampling(JsonNode o) {
        SamplingParams.Builder b = SamplingParams.builder();
        if (o.isMissingNode() || o.isNull()) {
            return b.build();
        }
        if (!o.isObject()) {
            throw ApiException.badRequest("options", "options must be an object");
        }
        NUMBERS.forEach((key, set) -> {
            Double v = Fields.number(o, key, "options." + key);
            if (v != null) {
                set.accept(b, v);
            }
        });
        List<String> stop = Fields.strings(o, "stop", "options.stop");
        if (stop != null) {
            b.stop(stop);
        }
        return b.build();
    }

    /** Ollama's numeric options and what each sets (whole numbers cut from the number, as Ollama cuts them). */
    private static final java.util.Map<String, java.util.function.ObjDoubleConsumer<SamplingParams.Builder>> NUMBERS = java.util.Map.ofEntries(
            java.util.Map.entry("temperature", SamplingParams.Builder::temperature),
            java.util.Map.entry("top_p", SamplingParams.Builder::topP),
            java.util.Map.entry("top_k", (b, v) -> b.topK((int) v)),
            java.util.Map.entry("min_p", SamplingParams.Builder::minP),
            java.util.Map.entry("num_predict", (b, v) -> {
                if (v > 0) { // -1 and -2: as many as fit
                    b.maxTokens((int) v);
                }
            }),
            java.util.Map.entry("seed", (b, v) -> b.seed((long) v)),
            java.util.Map.entry("repeat_penalty", SamplingParams.Builder::repeatPenalty),
            java.util.Map.entry("repeat_last_n", (b, v) -> b.repeatLastN((int) v)),
            java.util.Map.entry("presence_penalty", SamplingParams.Builder::presencePenalty),
            java.util.Map.entry("frequency_penalty", SamplingParams.Builder::frequencyPenalty));

    /** {@code format}: "json", or a JSON schema. */
    private static ResponseFormat format(JsonNode f) {
        if (f == null || f.isNull() || f.isTextual() && f.asText().isEmpty()) {
            return null;
        }
        if (f.isTextual()) {
            if (!f.asText().equals("json")) {
                throw ApiException.badRequest("format", "format must be \"json\" or a JSON schema");
            }
            return ResponseFormat.JSON_OBJECT;
        }
        return new ResponseFormat.JsonSchema("format", Json.text(f));
    }

    // ---- embeddings ----

    private void embed(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        String model = name(body);
        JsonNode input = body.get("input");
        List<String> inputs = new ArrayList<>();
        if (input != null && input.isTextual()) {
            if (!input.asText().isEmpty()) {
                inputs.add(input.asText());
            }
        } else if (input != null && input.isArray()) {
            input.forEach(i -> inputs.add(i.isTextual() ? i.asText() : null));
        } else if (input != null && !input.isNull()) {
            throw ApiException.badRequest("input", "input must be a string or a list of strings");
        }
        if (inputs.contains(null)) {
            throw ApiException.badRequest("input", "input must be a string or a list of strings");
        }
        Fields.flag(body, "truncate", "truncate"); // checked: every input fits in the model's window or is refused anyway
        long begin = System.nanoTime();
        java.time.Duration keepAlive = KeepAlive.of(body);
        if (inputs.isEmpty()) { // Ollama's way of loading (or, with keep_alive 0, unloading) an embedding model
            loadOrUnload(model, keepAlive);
            res.json(200, Json.MAPPER.createObjectNode().put("model", model).set("embeddings", Json.MAPPER.createArrayNode()));
            return;
        }
        EmbeddingResult r = embedWith(req, model, inputs, body.hasNonNull("dimensions") ? body.get("dimensions").asInt() : null);
        keep(model, keepAlive);
        ObjectNode o = Json.MAPPER.createObjectNode().put("model", model);
        o.set("embeddings", Json.MAPPER.valueToTree(r.vectors()));
        o.put("total_duration", System.nanoTime() - begin).put("load_duration", 0).put("prompt_eval_count", r.promptTokens());
        res.json(200, o);
    }

    private void embeddings(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        String model = name(body);
        String prompt = body.path("prompt").asText("");
        if (prompt.isEmpty()) { // as Ollama answers it: the model loaded (or unloaded), no vector
            loadOrUnload(model, KeepAlive.of(body));
            res.json(200, Json.MAPPER.createObjectNode().set("embedding", Json.MAPPER.createArrayNode()));
            return;
        }
        EmbeddingResult r = embedWith(req, model, List.of(prompt), null);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.set("embedding", Json.MAPPER.valueToTree(r.vectors().getFirst()));
        res.json(200, o);
    }

    private EmbeddingResult embedWith(Request req, String model, List<String> inputs, Integer dimensions) throws Exception {
        req.model(model);
        try (AutoCloseable admitted = models.admit(model)) {
            EmbeddingResult r = models.get(model).provider().embed(new EmbeddingRequest(model, inputs, dimensions));
            req.tokens(r.promptTokens(), 0);
            return r;
        }
    }
}

package io.corral.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.FinishReason;
import io.corral.api.Role;
import io.corral.api.TokenLogprob;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.Usage;
import io.corral.server.http.AccessLog;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.Fields;
import io.corral.server.http.EventStream;
import io.corral.server.http.Json;
import io.corral.server.http.ModelDirectory;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.http.Streams;
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.Span;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * OpenAI's inference API: {@code /v1/models}, {@code /v1/chat/completions} and {@code /v1/completions}
 * (streamed and not), {@code /v1/embeddings}. A thin layer: requests become Corral requests, the provider
 * generates, results become OpenAI JSON or SSE frames.
 */
public final class OpenAiApi implements Routes.Api {

    /** OpenAI's bound on the inputs of one embeddings request. */
    static final int MAX_EMBEDDING_INPUTS = 2048;

    private final ModelDirectory models;
    private final AccessLog log;
    private final Streams streams;
    private final long maxInputTokens;
    private final Guardrail guardrail;
    private final io.corral.api.UrlPolicy urls;
    private final long created = System.currentTimeMillis() / 1000;
    private final StoredCompletions stored;

    /**
     * @param maxInputTokens the most tokens one embeddings request may carry, estimated before any
     *                       model sees them (4 bytes of UTF-8 a token, OpenAI's rule of thumb)
     * @param urls           where an image's URL may lead (checked before any model sees it)
     * @param state          where chat completions asked for with {@code store: true} are kept
     */
    public OpenAiApi(ModelDirectory models, AccessLog log, Streams streams, long maxInputTokens, Guardrail guardrail,
                     io.corral.api.UrlPolicy urls, io.corral.spi.KeyValueStore state) {
        this.stored = new StoredCompletions(state);
        this.urls = urls;
        this.guardrail = guardrail;
        this.models = models;
        this.log = log;
        this.streams = streams;
        this.maxInputTokens = maxInputTokens;
    }

    @Override
    public void routes(Routes r) {
        r.get("/v1/models", this::models)
                .get("/v1/models/{model_id}", (req, res) ->
                        res.json(200, OpenAiResponses.model(models.get(req.param("model_id")).info(), created)))
                .forwardable("/v1/chat/completions", this::chat)
                .get("/v1/chat/completions", (req, res) -> res.json(200, io.corral.server.http.Page.of(req,
                        stored.list(req.tenant(), req.query("model")), o -> o.path("id").asText(), o -> o, 20, 100)))
                .get("/v1/chat/completions/{completion_id}", (req, res) -> res.json(200, stored.get(req.tenant(), req.param("completion_id"))))
                .post("/v1/chat/completions/{completion_id}", (req, res) -> {
                    JsonNode body = Json.parse(req.body());
                    if (!body.has("metadata")) {
                        throw ApiException.badRequest("metadata", "metadata is required: an object of up to 16 strings, or null");
                    }
                    res.json(200, stored.update(req.tenant(), req.param("completion_id"), OpenAiRequests.metadata(body)));
                })
                .get("/v1/chat/completions/{completion_id}/messages", (req, res) -> res.json(200,
                        io.corral.server.http.Page.of(req, stored.messages(req.tenant(), req.param("completion_id")).reversed(),
                                m -> m.path("id").asText(), m -> m, 20, 100, "asc")))
                .delete("/v1/chat/completions/{completion_id}", (req, res) -> {
                    stored.delete(req.tenant(), req.param("completion_id"));
                    res.json(200, Json.MAPPER.createObjectNode().put("id", req.param("completion_id"))
                            .put("object", "chat.completion.deleted").put("deleted", true));
                })
                .forwardable("/v1/completions", this::completions)
                .post("/v1/embeddings", this::embeddings);
    }

    private void models(Request req, Response res) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        models.list().forEach(m -> data.add(OpenAiResponses.model(m, created)));
        res.json(200, o);
    }

    private void chat(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        ChatRequest request = OpenAiRequests.chat(body);
        urls.checkImages(request.messages());
        Map<String, String> metadata = OpenAiRequests.metadata(body);
        metadata.forEach((k, v) -> req.span().set(k, v)); // the client finds its trace by them
        boolean store = Boolean.TRUE.equals(Fields.flag(body, "store", "store"));
        String id = "chatcmpl-" + req.id();
        long now = System.currentTimeMillis() / 1000;
        Guardrail.Checks checks = guardrail.checks(request.model(), OpenAiRequests.guardrails(body));
        input(req, checks, request.messages());
        generate(req, res, body, request.model(), checks, OpenAiRequests.stream(body), OpenAiRequests.includeUsage(body),
                List.of(new Call(provider -> provider.stream(request), provider -> provider.chat(request))),
                r -> OpenAiResponses.chatCompletion(id, now, r.getFirst()), new ChatFrames(id, now),
                // kept once answered whole, streamed or not
                store ? r -> stored.put(req.tenant(), OpenAiResponses.chatCompletion(id, now, r.getFirst()), body.get("messages"), metadata) : null);
    }

    private void completions(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        List<CompletionRequest> prompts = OpenAiRequests.completions(body);
        String id = "cmpl-" + req.id();
        long now = System.currentTimeMillis() / 1000;
        Guardrail.Checks checks = guardrail.checks(prompts.getFirst().model(), OpenAiRequests.guardrails(body));
        for (CompletionRequest p : prompts) {
            input(req, checks, List.of(ChatMessage.of(Role.USER, p.prompt() == null ? "" : p.prompt())));
        }
        List<Call> calls = prompts.stream().map(p -> new Call(provider -> provider.stream(p), provider -> provider.complete(p))).toList();
        boolean echo = OpenAiRequests.echo(body);
        List<String> echoes = prompts.stream().map(p -> echo ? p.prompt() : "").toList();
        generate(req, res, body, prompts.getFirst().model(), checks, OpenAiRequests.stream(body), OpenAiRequests.includeUsage(body),
                calls, r -> OpenAiResponses.completion(id, now, r, echoes), new CompletionFrames(id, now, echoes), null);
    }

    /**
     * {@code input}: a string or an array of strings; {@code encoding_format}: float (default) or base64;
     * {@code dimensions}: shorter vectors than the model's own.
     */
    private void embeddings(Request req, Response res) throws Exception {
        JsonNode body = Json.parse(req.body());
        req.model(OpenAiRequests.model(body));
        ObjectNode o = embeddings(body);
        req.tokens(o.path("usage").path("prompt_tokens").asLong(), 0);
        res.json(200, o);
    }

    /**
     * One request answered whole, as a batch runs each of its lines: a chat or text completion (its id made of {@code id}) or
     * embeddings, through the same mapping, guardrails and admission as the routes; a failure is thrown as it is.
     */
    public ObjectNode answer(String endpoint, JsonNode body, String id) throws Exception {
        return switch (endpoint) {
            case "/v1/chat/completions" -> {
                ChatRequest request = OpenAiRequests.chat(body);
                urls.checkImages(request.messages());
                Guardrail.Checks checks = guardrail.checks(request.model(), OpenAiRequests.guardrails(body));
                if (checks.any()) {
                    checks.input(request.messages());
                }
                try (AutoCloseable admitted = models.admit(request.model())) {
                    ChatResult r = checks.output(models.get(request.model()).provider()).chat(request);
                    yield OpenAiResponses.chatCompletion("chatcmpl-" + id, System.currentTimeMillis() / 1000, r);
                }
            }
            case "/v1/completions" -> {
                List<CompletionRequest> prompts = OpenAiRequests.completions(body);
                String model = prompts.getFirst().model();
                Guardrail.Checks checks = guardrail.checks(model, OpenAiRequests.guardrails(body));
                if (checks.any()) {
                    for (CompletionRequest p : prompts) {
                        checks.input(List.of(ChatMessage.of(Role.USER, p.prompt() == null ? "" : p.prompt())));
                    }
                }
                boolean echo = OpenAiRequests.echo(body);
                List<ChatResult> results = new ArrayList<>();
                try (AutoCloseable admitted = models.admit(model)) {
                    InferenceProvider provider = checks.output(models.get(model).provider());
                    for (CompletionRequest p : prompts) {
                        results.add(provider.complete(p));
                    }
                }
                yield OpenAiResponses.completion("cmpl-" + id, System.currentTimeMillis() / 1000, results,
                        prompts.stream().map(p -> echo ? p.prompt() : "").toList());
            }
            case "/v1/embeddings" -> embeddings(body);
            default -> throw ApiException.badRequest("endpoint", "endpoint must be /v1/chat/completions, /v1/completions or /v1/embeddings, was '"
                    + endpoint + "'");
        };
    }

    private ObjectNode embeddings(JsonNode body) throws Exception {
        String model = OpenAiRequests.model(body);
        List<String> inputs = embeddingInputs(body.get("input"), maxInputTokens);
        String encoding = body.path("encoding_format").asText("float");
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiException.badRequest("encoding_format", "encoding_format must be float or base64");
        }
        JsonNode d = body.get("dimensions");
        if (d != null && !d.isNull() && !(d.canConvertToInt() && d.isIntegralNumber() && d.asInt() >= 1)) {
            throw ApiException.badRequest("dimensions", "dimensions must be a whole number of at least 1");
        }
        EmbeddingRequest ask = new EmbeddingRequest(model, inputs, d == null || d.isNull() ? null : d.asInt());
        EmbeddingResult r;
        try (AutoCloseable admitted = models.admit(model)) {
            r = models.get(model).provider().embed(ask);
        }
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < r.vectors().size(); i++) {
            ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
            float[] v = r.vectors().get(i);
            if (encoding.equals("base64")) {
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode a = e.putArray("embedding");
                for (float x : v) {
                    a.add(x);
                }
            }
        }
        o.put("model", r.model());
        o.putObject("usage").put("prompt_tokens", r.promptTokens()).put("total_tokens", r.promptTokens());
        return o;
    }

    /** The inputs of an embeddings request, bounded in count (2,048, as OpenAI) and in estimated tokens. */
    static List<String> embeddingInputs(JsonNode input, long maxTokens) {
        List<String> inputs = new ArrayList<>();
        if (input != null && input.isTextual()) {
            inputs.add(input.asText());
        } else if (input != null && input.isArray() && !input.isEmpty()) {
            if (input.size() > MAX_EMBEDDING_INPUTS) {
                throw ApiException.badRequest("input", "input has " + input.size() + " items; at most "
                        + MAX_EMBEDDING_INPUTS + " are allowed in one request");
            }
            for (JsonNode i : input) {
                if (!i.isTextual()) {
                    throw ApiException.badRequest("input", "input must be a string or a non-empty array of strings");
                }
                inputs.add(i.asText());
            }
        } else {
            throw ApiException.badRequest("input", "input must be a string or a non-empty array of strings");
        }
        long tokens = 0;
        for (String s : inputs) {
            if (s.isEmpty()) {
                throw ApiException.badRequest("input", "input must not contain empty strings");
            }
            tokens += (s.getBytes(StandardCharsets.UTF_8).length + 3) / 4;
        }
        if (tokens > maxTokens) {
            throw ApiException.badRequest("input", "input is about " + tokens + " tokens; at most " + maxTokens
                    + " are allowed in one request");
        }
        return inputs;
    }

    /**
     * The input guardrail, as a span holding one span per shield: before the request is admitted, so a blocked one
     * never holds an engine slot. The output is checked by the provider {@link Guardrail.Checks#output} wraps.
     */
    private static void input(Request req, Guardrail.Checks checks, List<ChatMessage> messages) {
        if (!checks.any()) {
            return;
        }
        Span span = req.span().child("corral.guardrail.input");
        try {
            io.corral.spi.Spans.within(span, () -> {
                checks.input(messages);
                return null;
            });
        } catch (RuntimeException e) {
            span.fail(e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** One generation of a request (a completions request has one per prompt): streamed, or whole. */
    private record Call(Function<InferenceProvider, TokenStream> start, Function<InferenceProvider, ChatResult> ask) {
    }

    /** The SSE frames of one endpoint; {@code index} is the choice's (the prompt's) index. */
    interface Frames {
        ObjectNode first(String model);

        /** A text piece, with the log-probabilities of the tokens it came from (empty when not asked). */
        ObjectNode delta(String model, int index, String text, List<TokenLogprob> logprobs);

        /** A piece of a tool call, or null where the endpoint has none. */
        default ObjectNode toolCall(String model, StreamEvent.ToolCallDelta piece) {
            return null;
        }

        ObjectNode last(String model, int index, ChatResult r);

        ObjectNode usage(String model, Usage u);
    }

    /** The frames of {@code /v1/chat/completions}: a role frame, text and tool-call deltas, the finish, usage. */
    private record ChatFrames(String id, long created) implements Frames {
        public ObjectNode first(String model) {
            return OpenAiResponses.chatChunk(id, created, model, "assistant", "", null);
        }

        public ObjectNode delta(String model, int index, String text, List<TokenLogprob> lp) {
            return OpenAiResponses.chatChunk(id, created, model, null, text, null, lp);
        }

        public ObjectNode toolCall(String model, StreamEvent.ToolCallDelta piece) {
            return OpenAiResponses.toolCallChunk(id, created, model, piece);
        }

        public ObjectNode last(String model, int index, ChatResult r) {
            return OpenAiResponses.chatChunk(id, created, model, null, null, OpenAiResponses.finishReason(r.finishReason()));
        }

        public ObjectNode usage(String model, Usage u) {
            return OpenAiResponses.usageChunk(id, "chat.completion.chunk", created, model, u);
        }
    }

    /**
     * The frames of {@code /v1/completions}: text pieces, the finish, usage; with {@code echo}, each prompt's first piece
     * (or its finish, when nothing was generated) begins with the prompt.
     */
    private static final class CompletionFrames implements Frames {
        private final String id;
        private final long created;
        private final List<String> echoes;
        private final boolean[] echoed;

        CompletionFrames(String id, long created, List<String> echoes) {
            this.id = id;
            this.created = created;
            this.echoes = echoes;
            this.echoed = new boolean[echoes.size()];
        }

        private String echo(int index) {
            if (echoed[index]) {
                return "";
            }
            echoed[index] = true;
            return echoes.get(index);
        }

        public ObjectNode first(String model) {
            return null;
        }

        public ObjectNode delta(String model, int index, String text, List<TokenLogprob> lp) {
            return OpenAiResponses.completionChunk(id, created, model, index, echo(index) + text, null, lp);
        }

        public ObjectNode last(String model, int index, ChatResult r) {
            return OpenAiResponses.completionChunk(id, created, model, index, echo(index),
                    OpenAiResponses.finishReason(r.finishReason()), List.of());
        }

        public ObjectNode usage(String model, Usage u) {
            return OpenAiResponses.usageChunk(id, "text_completion", created, model, u);
        }
    }

    private void generate(Request req, Response res, JsonNode body, String model, Guardrail.Checks checks, boolean stream,
                          boolean includeUsage, List<Call> calls, Function<List<ChatResult>, ObjectNode> whole, Frames frames,
                          java.util.function.Consumer<List<ChatResult>> keep) throws Exception {
        req.model(model);
        try (AutoCloseable admitted = models.admit(model)) {
            InferenceProvider provider = checks.output(models.get(model).provider());
            if (!stream) {
                List<ChatResult> results = new ArrayList<>();
                for (Call c : calls) {
                    results.add(c.ask().apply(provider));
                }
                Usage u = OpenAiResponses.sum(results);
                req.tokens(u.promptTokens(), u.completionTokens());
                log.content(req, body, results.getFirst().text());
                servedBy(res, results.getFirst());
                if (keep != null) {
                    keep.accept(results);
                }
                res.json(200, whole.apply(results));
                return;
            }
            EventStream sse = null;
            List<ChatResult> results = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) {
                TokenStream tokens = calls.get(i).start().apply(provider);
                try (tokens; AutoCloseable tracked = streams.track(tokens)) {
                    if (sse == null) {
                        sse = res.events();
                        ObjectNode first = frames.first(model);
                        if (first != null) {
                            sse.data(first); // a client gone here is a 499; closing the stream stops the engine
                        }
                    }
                    ChatResult r = streamFrames(req, sse, model, i, tokens, frames);
                    if (r == null) {
                        return; // failed or stopped: the stream has been ended
                    }
                    results.add(r);
                }
            }
            Usage u = OpenAiResponses.sum(results);
            req.tokens(u.promptTokens(), u.completionTokens());
            if (includeUsage) {
                sse.data(frames.usage(model, u));
            }
            if (keep != null) {
                keep.accept(results);
            }
            sse.done();
            log.content(req, body, results.getFirst().text());
        }
    }

    /** Which runner answered and after how many tries (the result's metrics, for HTTP clients). */
    static void servedBy(Response res, ChatResult r) {
        res.header(Response.RUNNER, r.metrics().provider());
        res.header(Response.ATTEMPTS, Integer.toString(r.metrics().attempts()));
    }

    /**
     * Streams one choice's pieces and its finish; returns its result, or null when it failed or the server
     * is stopping (then the stream has been ended with an error event). A client that left stops the engine.
     */
    private ChatResult streamFrames(Request req, EventStream sse, String model, int index, TokenStream tokens, Frames frames) {
        try {
            while (tokens.hasNext()) {
                ObjectNode frame = switch (tokens.next()) {
                    case StreamEvent.Text t -> frames.delta(model, index, t.text(), t.logprobs());
                    case StreamEvent.ToolCallDelta d -> frames.toolCall(model, d);
                    case StreamEvent.Finish f -> null; // the last frame is written from the result
                };
                if (frame != null) {
                    req.firstToken();
                    sse.data(frame);
                }
            }
            ChatResult r = tokens.result();
            if (streams.stopping() && r.finishReason() == FinishReason.CANCELLED) {
                sse.fail(Errors.SHUTTING_DOWN);
                return null;
            }
            sse.data(frames.last(model, index, r));
            return r;
        } catch (EventStream.ClientGone gone) {
            tokens.cancel(); // the client left: stop the engine now
            throw gone;
        } catch (RuntimeException e) {
            sse.fail(Errors.map(e)); // after the first byte the status is sent: report the failure in the stream
            return null;
        }
    }
}

package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.FinishReason;
import io.corral.api.TokenStream;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.OutputStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * {@code /v1/chat/completions} and {@code /v1/completions}, streamed and not. A thin layer: requests
 * become Corral requests, the provider generates, results become OpenAI JSON or SSE frames.
 */
final class InferenceApi implements HttpService {

    private final ModelDirectory models;
    private final Http http;
    private final Set<TokenStream> running = ConcurrentHashMap.newKeySet();
    private volatile boolean shuttingDown;

    InferenceApi(ModelDirectory models, Http http) {
        this.models = models;
        this.http = http;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/v1/chat/completions", this::chat)
                .post("/v1/completions", this::completions)
                .post("/v1/embeddings", this::embeddings);
    }

    /** Ends every running stream with an error event (server shutdown). */
    void shutdown() {
        shuttingDown = true;
        running.forEach(TokenStream::cancel);
    }

    private void chat(ServerRequest req, ServerResponse res) throws Exception {
        JsonNode body = http.body(req);
        ChatRequest request = OpenAiRequests.chat(body);
        String id = "chatcmpl-" + Http.requestId(req);
        long created = System.currentTimeMillis() / 1000;
        generate(req, res, body, request.model(), OpenAiRequests.stream(body), OpenAiRequests.includeUsage(body),
                provider -> provider.stream(request), provider -> provider.chat(request),
                r -> OpenAiResponses.chatCompletion(id, created, r),
                new ChatFrames(id, created));
    }

    private void completions(ServerRequest req, ServerResponse res) throws Exception {
        JsonNode body = http.body(req);
        CompletionRequest request = OpenAiRequests.completion(body);
        String id = "cmpl-" + Http.requestId(req);
        long created = System.currentTimeMillis() / 1000;
        generate(req, res, body, request.model(), OpenAiRequests.stream(body), OpenAiRequests.includeUsage(body),
                provider -> provider.stream(request), provider -> provider.complete(request),
                r -> OpenAiResponses.completion(id, created, r),
                new CompletionFrames(id, created));
    }

    /** {@code input}: a string or an array of strings; {@code encoding_format}: float (default) or base64. */
    private void embeddings(ServerRequest req, ServerResponse res) throws Exception {
        JsonNode body = http.body(req);
        String model = OpenAiRequests.model(body);
        java.util.List<String> inputs = new java.util.ArrayList<>();
        JsonNode input = body.get("input");
        if (input != null && input.isTextual()) {
            inputs.add(input.asText());
        } else if (input != null && input.isArray() && !input.isEmpty() && input.get(0).isTextual()) {
            input.forEach(i -> inputs.add(i.asText()));
        } else {
            throw ApiException.badRequest("input", "input must be a string or a non-empty array of strings");
        }
        String encoding = body.path("encoding_format").asText("float");
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiException.badRequest("encoding_format", "encoding_format must be float or base64");
        }
        io.corral.api.EmbeddingResult r;
        try (AutoCloseable admitted = models.admit(model)) {
            r = models.get(model).provider().embed(new io.corral.api.EmbeddingRequest(model, inputs));
        }
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        com.fasterxml.jackson.databind.node.ArrayNode data = o.putArray("data");
        for (int i = 0; i < r.vectors().size(); i++) {
            ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
            float[] v = r.vectors().get(i);
            if (encoding.equals("base64")) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                e.put("embedding", java.util.Base64.getEncoder().encodeToString(b.array()));
            } else {
                com.fasterxml.jackson.databind.node.ArrayNode a = e.putArray("embedding");
                for (float x : v) {
                    a.add(x);
                }
            }
        }
        o.put("model", r.model());
        o.putObject("usage").put("prompt_tokens", r.promptTokens()).put("total_tokens", r.promptTokens());
        http.log(req, 200, model, null);
        http.json(res, Status.OK_200, o);
    }

    /** The SSE frames of one endpoint. */
    interface Frames {
        ObjectNode first(String model);

        /** A text piece, with the log-probabilities of the tokens it came from (empty when not asked). */
        ObjectNode delta(String model, String text, java.util.List<io.corral.api.TokenLogprob> logprobs);

        /** The tool calls, sent whole after the text, or null. */
        default ObjectNode calls(ChatResult r) {
            return null;
        }

        ObjectNode last(String model, ChatResult r);

        ObjectNode usage(String model, ChatResult r);
    }

    /** The frames of {@code /v1/chat/completions}: a role frame, text deltas, tool calls, the finish, usage. */
    private record ChatFrames(String id, long created) implements Frames {
        public ObjectNode first(String model) {
            return OpenAiResponses.chatChunk(id, created, model, "assistant", "", null);
        }

        public ObjectNode delta(String model, String text, java.util.List<io.corral.api.TokenLogprob> lp) {
            return OpenAiResponses.chatChunk(id, created, model, null, text, null, lp);
        }

        public ObjectNode calls(ChatResult r) {
            return r.toolCalls().isEmpty() ? null : OpenAiResponses.toolCallChunk(id, created, r);
        }

        public ObjectNode last(String model, ChatResult r) {
            return OpenAiResponses.chatChunk(id, created, model, null, null, OpenAiResponses.finishReason(r.finishReason()));
        }

        public ObjectNode usage(String model, ChatResult r) {
            return OpenAiResponses.usageChunk(id, "chat.completion.chunk", created, model, r.usage());
        }
    }

    /** The frames of {@code /v1/completions}: text pieces, the finish, usage. */
    private record CompletionFrames(String id, long created) implements Frames {
        public ObjectNode first(String model) {
            return null;
        }

        public ObjectNode delta(String model, String text, java.util.List<io.corral.api.TokenLogprob> lp) {
            return OpenAiResponses.completionChunk(id, created, model, text, null, lp);
        }

        public ObjectNode last(String model, ChatResult r) {
            return OpenAiResponses.completionChunk(id, created, model, "",
                    OpenAiResponses.finishReason(r.finishReason()), java.util.List.of());
        }

        public ObjectNode usage(String model, ChatResult r) {
            return OpenAiResponses.usageChunk(id, "text_completion", created, model, r.usage());
        }
    }

    private void generate(ServerRequest req, ServerResponse res, JsonNode body, String model, boolean stream,
                          boolean includeUsage,
                          Function<io.corral.spi.InferenceProvider, TokenStream> start,
                          Function<io.corral.spi.InferenceProvider, ChatResult> ask,
                          Function<ChatResult, ObjectNode> whole, Frames frames) throws Exception {
        try (AutoCloseable admitted = models.admit(model)) {
            if (!stream) {
                ChatResult r = ask.apply(models.get(model).provider());
                http.log(req, 200, model, r);
                http.logContent(req, body, r.text());
                Http.servedBy(res, r.metrics().provider(), r.metrics().attempts());
                http.json(res, Status.OK_200, whole.apply(r));
                return;
            }
            TokenStream tokens = start.apply(models.get(model).provider());
            running.add(tokens);
            try (tokens) {
                ChatResult r = streamFrames(req, res, model, includeUsage, tokens, frames);
                if (r != null) {
                    http.logContent(req, body, r.text());
                }
            } finally {
                running.remove(tokens);
            }
        }
    }

    /** Streams the answer; returns its result, or null when the client left or it failed. */
    private ChatResult streamFrames(ServerRequest req, ServerResponse res, String model, boolean includeUsage,
                                    TokenStream tokens, Frames frames) throws Exception {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            Sse sse = new Sse(out);
            try {
                ObjectNode first = frames.first(model);
                if (first != null) {
                    sse.data(first);
                }
                while (tokens.hasNext()) {
                    String piece = tokens.next();
                    sse.data(frames.delta(model, piece, tokens.takeLogprobs()));
                }
                ChatResult r = tokens.result();
                if (shuttingDown && r.finishReason() == FinishReason.CANCELLED) {
                    sse.data(Errors.body(Errors.SHUTTING_DOWN));
                } else {
                    ObjectNode calls = frames.calls(r);
                    if (calls != null) {
                        sse.data(calls);
                    }
                    sse.data(frames.last(model, r));
                    if (includeUsage) {
                        sse.data(frames.usage(model, r));
                    }
                }
                sse.done();
                http.log(req, 200, model, r);
                return r;
            } catch (Sse.ClientGone gone) {
                tokens.cancel(); // the client left: stop the engine now
                http.log(req, 499, model, null);
                return null;
            } catch (RuntimeException e) {
                // after the first byte the status is sent: report the failure in the stream
                Errors.Mapped m = Errors.map(e);
                sse.fail(m);
                http.log(req, m.status(), model, null);
                return null;
            }
        }
    }
}

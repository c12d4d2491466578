package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.ContentBlockedException;
import io.corral.api.ContentPart;
import io.corral.api.FinishReason;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.api.ResponseFormat;
import io.corral.api.SamplingParams;
import io.corral.api.StreamEvent;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.TokenStream;
import io.corral.api.UrlPolicy;
import io.corral.spi.FilesProvider;
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.Responses;
import io.corral.spi.Span;
import io.corral.spi.Spans;
import io.corral.spi.VectorStores;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@link Responses} over the models Corral serves, the vector stores ({@code file_search}), the guardrails and the
 * state store. A response runs the agent loop: the model, then the server-side tools it called, then the model
 * again, until an answer, a client tool call ({@code function}: the response ends with its {@code function_call}
 * items), {@code max_tool_calls}, {@code max_infer_iters} or a guardrail stops it; each step is a span. Stored
 * responses keep their input, so {@code previous_response_id} continues them; a response with {@code conversation}
 * appends its input and output to it. Records live in the state store under {@code responses/} and
 * {@code conversations/}, keyed by tenant.
 */
public final class ResponsesService implements Responses {

    /** The most model calls of one response unless {@code max_infer_iters} says otherwise (Llama Stack's default). */
    static final int MAX_INFER_ITERS = 10;

    private final Function<String, InferenceProvider> models;
    private final VectorStores stores;
    private final Guardrail guardrail;
    private final KeyValueStore state;
    private final PromptStore prompts;
    private final Clock clock;
    private final UrlPolicy urls;
    private final io.corral.spi.ToolRuntimeProvider webSearch;
    private final FilesProvider files;
    private final Map<String, Run> running = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    /** Over a shared state store, which node runs which background response (a node that dies, another takes over). */
    private final io.corral.spi.Leases leases;

    /**
     * @param models    the provider of a model id (throws {@link io.corral.api.ModelNotFoundException})
     * @param stores    the vector stores {@code file_search} reads, or null for none
     * @param guardrail the guardrails (the config's per model, and each request's {@code guardrails})
     * @param state     where responses and conversations are kept
     */
    public ResponsesService(Function<String, InferenceProvider> models, VectorStores stores, Guardrail guardrail,
                            KeyValueStore state, Clock clock) {
        this(models, stores, guardrail, state, clock, UrlPolicy.PUBLIC_ONLY);
    }

    /** @param urls where URLs a request brings (MCP servers, images) may lead */
    public ResponsesService(Function<String, InferenceProvider> models, VectorStores stores, Guardrail guardrail,
                            KeyValueStore state, Clock clock, UrlPolicy urls) {
        this(models, stores, guardrail, state, clock, urls, null);
    }

    /** @param webSearch the tool runtime {@code web_search} calls (Brave, Tavily, SearXNG), or null for none */
    public ResponsesService(Function<String, InferenceProvider> models, VectorStores stores, Guardrail guardrail,
                            KeyValueStore state, Clock clock, UrlPolicy urls, io.corral.spi.ToolRuntimeProvider webSearch) {
        this(models, stores, guardrail, state, clock, urls, webSearch, null);
    }

    /** @param files the uploaded files an {@code input_image} names by {@code file_id}, or null for none */
    public ResponsesService(Function<String, InferenceProvider> models, VectorStores stores, Guardrail guardrail,
                            KeyValueStore state, Clock clock, UrlPolicy urls, io.corral.spi.ToolRuntimeProvider webSearch,
                            FilesProvider files) {
        this.files = files;
        this.webSearch = webSearch;
        this.urls = urls;
        this.models = models;
        this.stores = stores;
        this.guardrail = guardrail == null ? Guardrail.NONE : guardrail;
        this.state = state;
        this.clock = clock;
        this.leases = new io.corral.spi.Leases(state, clock);
        this.prompts = new PromptStore(state);
        recover();
        leases.keep("corral-responses-leases", this::takeOver); // over a shared state store
    }

    /**
     * Background responses that were queued or running when Corral last stopped (killed, or stopped with them under
     * way) run again from their start, under the same id: their request is kept with them until they end. One whose
     * request cannot run any more (a model or a tool's server no longer allowed) ends as failed with the reason, and so
     * does one an older Corral left without its request.
     */
    private void recover() {
        for (var e : state.prefix("responses/")) {
            resume(e.getKey(), e.getValue());
        }
    }

    /**
     * Runs a stored background response again if it is unfinished and no other node runs it (one that holds its
     * lease); true when it was unfinished.
     */
    private synchronized boolean resume(String key, String value) {
        ObjectNode record = (ObjectNode) Json.parse(value);
        ObjectNode r = (ObjectNode) record.get("response");
        String status = r.path("status").asText();
        if (!status.equals("queued") && !status.equals("in_progress")) {
            return false;
        }
        String id = r.path("id").asText();
        if (running.containsKey(id) || !leases.take(lease(id))) {
            return true; // running here, or on another node
        }
        String[] k = key.split("/", 3);
        String tenant = k[1].equals("-") ? null : k[1];
        JsonNode req = record.get("request");
        List<ObjectNode> input = new ArrayList<>();
        record.path("input").forEach(i -> input.add((ObjectNode) i));
        List<JsonNode> history = new ArrayList<>();
        record.path("history").forEach(history::add);
        String reason = "Corral stopped while this background response was " + status.replace('_', ' ') + "; it was not finished";
        if (req != null) {
            try {
                String model = r.path("model").asText();
                r.put("status", "queued").putNull("error");
                r.putArray("output");
                inBackground(tenant, req, model, input, history, r.path("previous_response_id").asText(null),
                        r.path("conversation").path("id").asText(null), options(req, model), r);
                return true;
            } catch (RuntimeException ex) {
                reason = "Corral stopped while this background response ran, and it could not run again: " + ex.getMessage();
            }
        }
        r.put("status", "failed");
        r.putObject("error").put("code", "server_error").put("message", reason);
        save(tenant, r, input, history, null);
        leases.release(lease(id));
        return true;
    }

    private static String lease(String responseId) {
        return "response/" + responseId;
    }

    /**
     * Runs the unfinished background responses no node holds (their node died; {@link io.corral.spi.Leases#keep} calls this over a
     * shared state store); they are found by their {@code background/} entry, kept while they wait or run, and an
     * entry whose response has ended is dropped.
     */
    void takeOver() {
        for (var e : state.prefix("background/")) {
            String responseKey = "responses/" + e.getKey().substring("background/".length());
            Optional<String> record = state.get(responseKey);
            if (record.isEmpty() || !resume(responseKey, record.get())) {
                state.delete(e.getKey());
            }
        }
    }

    @Override
    public Map<String, Object> cancel(String tenant, String id) {
        ObjectNode stored = stored(tenant, id);
        Run run = running.get(id);
        if (run == null) {
            if (!stored.path("response").path("background").asBoolean(false)) {
                throw new InvalidRequestException("response_id", "only a background response can be cancelled");
            }
            return Json.plain(stored.get("response")); // it has ended already
        }
        run.cancelled = true;
        TokenStream s = run.stream;
        if (s != null) {
            s.cancel();
        }
        await(id, java.time.Duration.ofSeconds(30));
        return get(tenant, id);
    }

    /** Waits for a background response to end (tests, shutdown). */
    public void await(String id, java.time.Duration timeout) {
        Run run = running.get(id);
        java.util.concurrent.Future<?> f = run == null ? null : run.done;
        if (f == null) {
            return;
        }
        try {
            f.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            // it ended
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.corral.api.InferenceTimeoutException("background response " + id + " did not end within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- responses ----

    @Override
    public Map<String, Object> create(String tenant, Map<String, Object> request, Events events) {
        JsonNode req = Json.tree(request);
        if (req.hasNonNull("model") && !req.get("model").isTextual()) {
            throw new InvalidRequestException("model", "model must be a model id (a string)");
        }
        String model = req.path("model").asText("");
        if (model.isBlank()) {
            throw new InvalidRequestException("model", "model is required");
        }
        if (models.apply(model) == null) {
            throw new io.corral.api.ModelNotFoundException("model '" + model + "' not found (GET /v1/models lists them)");
        }
        if (req.hasNonNull("previous_response_id") && req.hasNonNull("conversation")) {
            throw new InvalidRequestException("conversation", "give previous_response_id or conversation, not both");
        }
        checkFields(req);
        prompt(tenant, req); // a prompt named that is not there, or a variable without a value, is refused now
        List<ObjectNode> input = Items.input(req.get("input"), "input");
        for (int i = 0; i < input.size(); i++) {
            JsonNode content = input.get(i).path("content");
            for (int j = 0; j < content.size(); j++) {
                JsonNode part = content.get(j);
                if (part.path("type").asText().equals("input_image")) {
                    String param = "input[" + i + "].content[" + j + "]";
                    if (part.hasNonNull("image_url")) {
                        urls.checkImage(part.get("image_url").asText(), param + ".image_url");
                    } else {
                        imageFile(tenant, part.path("file_id").asText(), param + ".file_id", 16); // refused now, not when it runs
                    }
                }
            }
        }
        List<JsonNode> history = new ArrayList<>();
        String previous = req.hasNonNull("previous_response_id") ? req.get("previous_response_id").asText() : null;
        if (previous != null) {
            ObjectNode stored = stored(tenant, previous);
            stored.path("history").forEach(history::add);
            stored.path("input").forEach(history::add);
            stored.path("response").path("output").forEach(history::add);
        }
        String conversation = conversationId(req.get("conversation"));
        if (conversation != null) {
            conversationRecord(tenant, conversation); // it must be there
            conversationItems(tenant, conversation).forEach(history::add);
        }
        Options options = options(req, model);
        if (options.tools().fileSearch() != null && stores != null) {
            for (String store : options.tools().fileSearch().storeIds()) {
                stores.get(tenant, store); // a store the key cannot see is refused now (404), as OpenAI does, not when searched
            }
        }
        ObjectNode response = skeleton(req, model, previous, conversation);
        if (req.path("background").asBoolean(false)) {
            if (req.path("stream").asBoolean(false)) {
                throw new InvalidRequestException("stream", "a background response is not streamed here: poll it with GET /v1/responses/{id}");
            }
            if (!req.path("store").asBoolean(true)) {
                throw new InvalidRequestException("store", "a background response must be stored");
            }
            response.put("background", true).put("status", "queued");
            return Json.plain(inBackground(tenant, req, model, input, history, previous, conversation, options, response));
        }
        return execute(tenant, req, model, input, history, previous, conversation, options, response, events, new Run());
    }

    /** What a request asks of the loop besides its input: its tools, limits, guardrails and what to include. */
    private record Options(Tools tools, int maxIters, int maxToolCalls, Guardrail.Checks checks, Set<String> include) {
    }

    private Options options(JsonNode req, String model) {
        Tools tools = Tools.of(req.get("tools"), req.get("tool_choice"), urls, webSearch != null);
        int maxIters = req.path("max_infer_iters").asInt(MAX_INFER_ITERS);
        int maxToolCalls = req.hasNonNull("max_tool_calls") ? req.get("max_tool_calls").asInt() : Integer.MAX_VALUE;
        List<String> shields = new ArrayList<>();
        req.path("guardrails").forEach(g -> shields.add(g.isObject() ? g.path("type").asText() : g.asText()));
        Guardrail.Checks checks = guardrail.checks(model, shields);
        Set<String> include = new LinkedHashSet<>();
        req.path("include").forEach(i -> include.add(i.asText()));
        return new Options(tools, maxIters, maxToolCalls, checks, include);
    }

    /**
     * Stores {@code response} queued, with its request (so a restart runs it again), and runs it apart; returns it as
     * queued. Once it ends it is stored without the request; stopped by {@link #close()}, it is left queued.
     */
    private ObjectNode inBackground(String tenant, JsonNode req, String model, List<ObjectNode> input, List<JsonNode> history,
                                    String previous, String conversation, Options options, ObjectNode response) {
        save(tenant, response, input, history, req);
        Run run = new Run();
        String id = response.get("id").asText();
        leases.take(lease(id));
        running.put(id, run);
        ObjectNode queued = response.deepCopy();
        run.done = background.submit(() -> {
            try {
                response.put("status", "in_progress");
                execute(tenant, req, model, input, history, previous, conversation, options, response, null, run);
            } catch (RuntimeException e) {
                if (!run.stopping) {
                    response.put("status", "failed");
                    response.putObject("error").put("code", "server_error").put("message", String.valueOf(e.getMessage()));
                    save(tenant, response, input, history, null);
                }
            } finally {
                running.remove(id);
                leases.release(lease(id));
            }
        });
        return queued;
    }

    /**
     * The first {@code limit} bytes of an uploaded image that an {@code input_image} names by {@code file_id} (its head when
     * the request comes, all of it when the response runs); a file the key cannot see, too large, or whose first bytes tell
     * no image (PNG, JPEG, GIF, WebP or BMP) is a 400 naming {@code param}.
     */
    private byte[] imageFile(String tenant, String fileId, String param, int limit) {
        if (files == null) {
            throw new InvalidRequestException(param, "this server keeps no files: give the image as image_url");
        }
        FilesProvider.FileInfo info = files.get(tenant, fileId)
                .orElseThrow(() -> new InvalidRequestException(param, "no file '" + fileId + "' (POST /v1/files uploads one)"));
        if (info.bytes() > ContentPart.MAX_IMAGE_BYTES) {
            throw new InvalidRequestException(param, "file '" + fileId + "' is " + info.bytes() + " bytes; an image is at most "
                    + ContentPart.MAX_IMAGE_BYTES);
        }
        byte[] bytes;
        try (java.io.InputStream in = files.content(tenant, fileId)
                .orElseThrow(() -> new InvalidRequestException(param, "no file '" + fileId + "' (POST /v1/files uploads one)"))) {
            bytes = in.readNBytes(limit);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("file '" + fileId + "' cannot be read", e);
        }
        if (ContentPart.imageType(bytes) == null) {
            throw new InvalidRequestException(param, "file '" + fileId + "' is not an image (PNG, JPEG, GIF, WebP or BMP)");
        }
        return bytes;
    }

    /** A response running: whether it was cancelled, the stream under way, and (in the background) its task. */
    private static final class Run {
        volatile boolean cancelled;
        volatile boolean stopping; // Corral stops: the response is left queued, to run again at the next start
        volatile TokenStream stream;
        volatile java.util.concurrent.Future<?> done;
    }

    /** Runs the loop of a response made by {@link #create}; stores it at the end. */
    private Map<String, Object> execute(String tenant, JsonNode req, String model, List<ObjectNode> input, List<JsonNode> history,
                                        String previous, String conversation, Options options, ObjectNode response, Events events,
                                        Run run) {
        Tools tools = options.tools();
        int maxIters = options.maxIters();
        int maxToolCalls = options.maxToolCalls();
        Guardrail.Checks checks = options.checks();
        Set<String> include = options.include();
        Emitter out = new Emitter(events);
        out.emit("response.created", Json.object().set("response", response.deepCopy()));
        out.emit("response.in_progress", Json.object().set("response", response.deepCopy()));

        List<ChatMessage> messages = new ArrayList<>();
        String prompt = prompt(tenant, req);
        if (prompt != null) {
            messages.add(ChatMessage.system(prompt));
        }
        if (req.hasNonNull("instructions")) {
            messages.add(ChatMessage.system(req.get("instructions").asText()));
        }
        Function<String, ContentPart> fileImage = id -> ContentPart.image(imageFile(tenant, id, "file_id", ContentPart.MAX_IMAGE_BYTES));
        messages.addAll(Items.chat(history, fileImage));
        messages.addAll(Items.chat(input, fileImage));
        ArrayNode output = response.putArray("output");
        int inputTokens = 0;
        int outputTokens = 0;
        int cached = 0;
        String status = "completed";
        String incomplete = null;
        Map<String, Mcp.Connection> connections = new java.util.LinkedHashMap<>();
        Map<String, Mcp.Tool> mcpTools = new java.util.LinkedHashMap<>();
        List<io.corral.api.ToolSpec> specs = new ArrayList<>(tools.specs());
        try {
            checks.input(messages);
            InferenceProvider provider = checks.output(models.apply(model));
            for (Mcp.Server server : tools.mcp()) {
                listTools(server, connections, mcpTools, specs, out, output);
            }
            for (ObjectNode item : input) {
                if (item.path("type").asText().equals("mcp_approval_response")) {
                    approved(item, history, connections, messages, out, output);
                }
            }
            int toolCalls = 0;
            Set<String> cited = new LinkedHashSet<>();
            ArrayNode citations = Json.array();
            for (int step = 0; ; step++) {
                if (run.cancelled) {
                    status = "cancelled";
                    break;
                }
                if (step == maxIters) {
                    status = "incomplete";
                    incomplete = "max_infer_iters";
                    break;
                }
                ToolChoice choice = step == 0 || tools.choice() instanceof ToolChoice.None ? tools.choice() : ToolChoice.AUTO;
                ChatRequest ask = new ChatRequest(model, messages, sampling(req), format(req.path("text").path("format")),
                        specs, specs.isEmpty() ? ToolChoice.AUTO : choice);
                Span span = Spans.current().child("corral.agent.step");
                span.set("corral.agent.step", step);
                ChatResult r;
                try {
                    r = Spans.within(span, () -> infer(provider, ask, out, output, citations, run));
                } catch (RuntimeException e) {
                    span.fail(e);
                    throw e;
                } finally {
                    span.end();
                }
                inputTokens += r.usage().promptTokens();
                outputTokens += r.usage().completionTokens();
                cached += r.usage().cachedTokens();
                if (run.cancelled) {
                    status = "cancelled";
                    break;
                }
                if (r.finishReason() == FinishReason.CONTENT_FILTER) {
                    status = "incomplete";
                    incomplete = "content_filter";
                    break;
                }
                if (r.finishReason() == FinishReason.LENGTH) {
                    status = "incomplete";
                    incomplete = "max_output_tokens";
                    break;
                }
                if (r.toolCalls().isEmpty()) {
                    break;
                }
                boolean clientCall = false;
                List<ChatMessage> results = new ArrayList<>();
                List<ToolCall> asked = req.path("parallel_tool_calls").asBoolean(true) ? r.toolCalls() : r.toolCalls().subList(0, 1);
                for (ToolCall call : asked) {
                    if (toolCalls++ >= maxToolCalls) {
                        break;
                    }
                    if (call.name().equals(Tools.FILE_SEARCH) && tools.fileSearch() != null) {
                        ObjectNode item = fileSearch(tenant, tools, call, out, output, include);
                        item.path("results").forEach(res -> {
                            if (cited.add(res.path("file_id").asText())) {
                                citations.addObject().put("type", "file_citation").put("file_id", res.path("file_id").asText())
                                        .put("filename", res.path("filename").asText());
                            }
                        });
                        results.add(ChatMessage.tool(call.id(), Tools.results(item.path("results"))));
                    } else if (call.name().equals(Tools.WEB_SEARCH) && tools.webSearch()) {
                        ObjectNode item = webSearch(call, out, output);
                        item.path("results").forEach(hit -> {
                            if (cited.add(hit.path("url").asText())) {
                                citations.addObject().put("type", "url_citation").put("url", hit.path("url").asText())
                                        .put("title", hit.path("title").asText());
                            }
                        });
                        results.add(ChatMessage.tool(call.id(), item.hasNonNull("error") ? "error: " + item.get("error").asText()
                                : Json.text(item.path("results"))));
                    } else if (mcpTools.containsKey(call.name())) {
                        Mcp.Tool t = mcpTools.get(call.name());
                        if (t.server().needsApproval(t.name())) { // the response ends with the question; the answer continues it
                            clientCall = true;
                            ObjectNode item = Json.object().put("type", "mcp_approval_request").put("id", Items.id("mcpr_"))
                                    .put("server_label", t.server().label()).put("name", t.name()).put("arguments", call.arguments());
                            out.done(out.add(output, item), item);
                        } else {
                            ObjectNode item = mcpCall(connections.get(t.server().label()), t.server().label(), t.name(),
                                    call.arguments(), out, output);
                            results.add(ChatMessage.tool(call.id(), item.hasNonNull("error") ? "error: " + item.get("error").asText()
                                    : item.path("output").asText()));
                        }
                    } else {
                        clientCall = true;
                        ObjectNode item = Json.object().put("type", "function_call").put("id", Items.id("fc_"))
                                .put("call_id", call.id() == null ? Items.id("call_") : call.id()).put("name", call.name())
                                .put("arguments", call.arguments()).put("status", "completed");
                        int index = out.add(output, item);
                        out.emit("response.function_call_arguments.done", Json.object().put("item_id", item.get("id").asText())
                                .put("output_index", index).put("name", call.name()).put("arguments", call.arguments()));
                        out.done(index, item);
                    }
                }
                if (clientCall || toolCalls >= maxToolCalls) {
                    break;
                }
                messages.add(new ChatMessage(io.corral.api.Role.ASSISTANT, r.text().isEmpty() ? List.of()
                        : List.of(io.corral.api.ContentPart.text(r.text())), asked, null));
                messages.addAll(results);
            }
        } catch (ContentBlockedException e) { // the input guardrail: the answer is a refusal
            ObjectNode item = Json.object().put("type", "message").put("id", Items.id("msg_")).put("status", "completed")
                    .put("role", "assistant");
            item.putArray("content").addObject().put("type", "refusal").put("refusal", e.getMessage());
            int index = out.add(output, item);
            out.done(index, item);
            status = "incomplete";
            incomplete = "content_filter";
        } finally {
            connections.values().forEach(Mcp.Connection::close);
        }
        response.put("status", status);
        if (incomplete != null) {
            response.putObject("incomplete_details").put("reason", incomplete);
        }
        ObjectNode usage = response.putObject("usage");
        usage.put("input_tokens", inputTokens);
        usage.putObject("input_tokens_details").put("cached_tokens", cached);
        usage.put("output_tokens", outputTokens);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", inputTokens + outputTokens);
        if (run.stopping) {
            return Json.plain(response); // left queued in the store: it runs again at the next start
        }
        boolean ended = !response.path("store").asBoolean(true) || save(tenant, response, input, history, null);
        if (conversation != null && ended) { // a late node's end, not written, adds nothing to the conversation either
            List<JsonNode> added = new ArrayList<>(input);
            output.forEach(added::add);
            append(tenant, conversation, added);
        }
        out.emit(status.equals("completed") ? "response.completed" : status.equals("cancelled") ? "response.cancelled" : "response.incomplete",
                Json.object().set("response", response.deepCopy()));
        return Json.plain(response);
    }

    /** The {@code query} a search tool was called with (the arguments as they are when they are not JSON). */
    private static String query(ToolCall call) {
        try {
            return Json.MAPPER.readTree(call.arguments()).path("query").asText("");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return call.arguments();
        }
    }

    /** A {@code web_search} call through the tool runtime: a {@code web_search_call} item (hits kept for later turns). */
    private ObjectNode webSearch(ToolCall call, Emitter out, ArrayNode output) {
        String query = query(call);
        ObjectNode item = Json.object().put("type", "web_search_call").put("id", Items.id("ws_")).put("status", "in_progress");
        item.putObject("action").put("type", "search").put("query", query);
        int index = out.add(output, item);
        String id = item.get("id").asText();
        out.emit("response.web_search_call.in_progress", Json.object().put("item_id", id).put("output_index", index));
        out.emit("response.web_search_call.searching", Json.object().put("item_id", id).put("output_index", index));
        Span span = Spans.current().child("corral.tool.web_search");
        try {
            var r = webSearch.invoke(Tools.WEB_SEARCH, Map.of("query", query));
            if (r.errorMessage() != null) {
                item.put("error", r.errorMessage());
                span.set("corral.tool.error", r.errorMessage());
            } else {
                item.set("results", Json.tree(r.metadata().getOrDefault("results", List.of())));
                span.set("corral.tool.results", item.get("results").size());
            }
        } finally {
            span.end();
        }
        item.put("status", item.hasNonNull("error") ? "failed" : "completed");
        out.emit("response.web_search_call.completed", Json.object().put("item_id", id).put("output_index", index));
        out.done(index, item);
        return item;
    }

    /** Connects to an MCP server and lists its tools: a {@code mcp_list_tools} item (with the error, when it cannot). */
    private void listTools(Mcp.Server server, Map<String, Mcp.Connection> connections, Map<String, Mcp.Tool> mcpTools,
                           List<io.corral.api.ToolSpec> specs, Emitter out, ArrayNode output) {
        Span span = Spans.current().child("corral.tool.mcp_list_tools");
        span.set("corral.mcp.server", server.label());
        ObjectNode item;
        try {
            Mcp.Connection c = new Mcp.Connection(server);
            connections.put(server.label(), c);
            List<Mcp.Tool> listed = c.tools(server);
            for (Mcp.Tool t : listed) {
                if (mcpTools.putIfAbsent(t.name(), t) != null || specs.stream().anyMatch(x -> x.name().equals(t.name()))) {
                    throw new InvalidRequestException("tools", "tool '" + t.name() + "' of MCP server " + server.label()
                            + " has the name of another tool of the request");
                }
                specs.add(new io.corral.api.ToolSpec(t.name(), t.description(), Json.text(Json.tree(t.inputSchema()))));
            }
            item = Mcp.listItem(server, listed, null);
            span.set("corral.tool.results", listed.size());
        } catch (InvalidRequestException e) {
            span.fail(e);
            throw e;
        } catch (RuntimeException e) {
            span.fail(e);
            item = Mcp.listItem(server, List.of(), e.getMessage());
        } finally {
            span.end();
        }
        int index = out.add(output, item);
        out.emit("response.mcp_list_tools.completed", Json.object().put("item_id", item.get("id").asText()).put("output_index", index));
        out.done(index, item);
    }

    /** Calls an MCP tool as a span: a {@code mcp_call} item with its output or error. */
    private ObjectNode mcpCall(Mcp.Connection c, String label, String name, String arguments, Emitter out, ArrayNode output) {
        ObjectNode item = Json.object().put("type", "mcp_call").put("id", Items.id("mcp_")).put("server_label", label)
                .put("name", name).put("arguments", arguments);
        item.putNull("output");
        item.putNull("error");
        int index = out.add(output, item);
        String id = item.get("id").asText();
        out.emit("response.mcp_call.in_progress", Json.object().put("item_id", id).put("output_index", index));
        Span span = Spans.current().child("corral.tool.mcp_call");
        span.set("corral.mcp.server", label).set("corral.mcp.tool", name);
        try {
            if (c == null) {
                throw new io.corral.api.UnavailableException("MCP server " + label + " is not connected");
            }
            Mcp.Result r = c.call(name, arguments);
            if (r.error()) {
                item.put("error", r.text());
            } else {
                item.put("output", r.text());
            }
        } catch (RuntimeException e) {
            span.fail(e);
            item.put("error", String.valueOf(e.getMessage()));
        } finally {
            span.end();
        }
        out.emit(item.hasNonNull("error") ? "response.mcp_call.failed" : "response.mcp_call.completed",
                Json.object().put("item_id", id).put("output_index", index));
        out.done(index, item);
        return item;
    }

    /**
     * An {@code mcp_approval_response} to a request of an earlier response: approved, the call is made now (its
     * {@code mcp_call} item in this response); refused, the model reads that it was not.
     */
    private void approved(ObjectNode answer, List<JsonNode> history, Map<String, Mcp.Connection> connections,
                          List<ChatMessage> messages, Emitter out, ArrayNode output) {
        String requestId = answer.get("approval_request_id").asText();
        JsonNode asked = history.stream().filter(h -> h.path("type").asText().equals("mcp_approval_request")
                && h.path("id").asText().equals(requestId)).findFirst()
                .orElseThrow(() -> new InvalidRequestException("input", "no mcp_approval_request '" + requestId + "' came before"));
        String name = asked.path("name").asText();
        String arguments = asked.path("arguments").asText("{}");
        messages.add(new ChatMessage(io.corral.api.Role.ASSISTANT, List.of(), List.of(new ToolCall(requestId, name, arguments)), null));
        if (!answer.get("approve").asBoolean()) {
            messages.add(ChatMessage.tool(requestId, "The user did not approve this call."));
            return;
        }
        String label = asked.path("server_label").asText();
        ObjectNode item = mcpCall(connections.get(label), label, name, arguments, out, output);
        messages.add(ChatMessage.tool(requestId, item.hasNonNull("error") ? "error: " + item.get("error").asText()
                : item.path("output").asText()));
    }

    /** One model call, streamed into a message item (created at its first text); the result. */
    private ChatResult infer(InferenceProvider provider, ChatRequest ask, Emitter out, ArrayNode output, ArrayNode citations, Run run) {
        ObjectNode message = null;
        int index = -1;
        StringBuilder text = new StringBuilder();
        ChatResult r;
        try (TokenStream s = provider.stream(ask)) {
            run.stream = s;
            if (run.cancelled) {
                s.cancel();
            }
            while (s.hasNext()) {
                if (s.next() instanceof StreamEvent.Text t && !t.text().isEmpty()) {
                    if (message == null) {
                        message = Json.object().put("type", "message").put("id", Items.id("msg_")).put("status", "in_progress")
                                .put("role", "assistant");
                        message.putArray("content");
                        index = out.add(output, message);
                        out.emit("response.content_part.added", Json.object().put("item_id", message.get("id").asText())
                                .put("output_index", index).put("content_index", 0).set("part", part("")));
                    }
                    text.append(t.text());
                    out.emit("response.output_text.delta", Json.object().put("item_id", message.get("id").asText())
                            .put("output_index", index).put("content_index", 0).put("delta", t.text())
                            .set("logprobs", Json.array()));
                }
            }
            r = s.result();
        }
        if (message != null) {
            String id = message.get("id").asText();
            ObjectNode part = part(text.toString());
            if (r.toolCalls().isEmpty()) {
                citations.forEach(c -> {
                    ObjectNode a = (ObjectNode) c;
                    if (a.path("type").asText().equals("url_citation")) {
                        a.put("start_index", text.length()).put("end_index", text.length());
                    } else {
                        a.put("index", text.length());
                    }
                });
                ((ArrayNode) part.get("annotations")).addAll(citations);
            }
            out.emit("response.output_text.done", Json.object().put("item_id", id).put("output_index", index)
                    .put("content_index", 0).put("text", text.toString()).set("logprobs", Json.array()));
            out.emit("response.content_part.done", Json.object().put("item_id", id).put("output_index", index)
                    .put("content_index", 0).set("part", part.deepCopy()));
            message.withArray("content").add(part);
            message.put("status", "completed");
            out.done(index, message);
        }
        return r;
    }

    private static ObjectNode part(String text) {
        ObjectNode p = Json.object().put("type", "output_text").put("text", text);
        p.putArray("annotations");
        p.putArray("logprobs");
        return p;
    }

    /** A {@code file_search} call: searched here, recorded as its item (results kept when {@code include} asks). */
    private ObjectNode fileSearch(String tenant, Tools tools, ToolCall call, Emitter out, ArrayNode output, Set<String> include) {
        String query = query(call);
        ObjectNode item = Json.object().put("type", "file_search_call").put("id", Items.id("fs_")).put("status", "in_progress");
        item.putArray("queries").add(query);
        item.putNull("results");
        int index = out.add(output, item);
        String id = item.get("id").asText();
        out.emit("response.file_search_call.in_progress", Json.object().put("item_id", id).put("output_index", index));
        out.emit("response.file_search_call.searching", Json.object().put("item_id", id).put("output_index", index));
        Span span = Spans.current().child("corral.tool.file_search");
        ArrayNode results;
        try {
            results = tools.search(stores, tenant, query);
            span.set("corral.tool.results", results.size());
        } catch (RuntimeException e) {
            span.fail(e);
            throw e;
        } finally {
            span.end();
        }
        out.emit("response.file_search_call.completed", Json.object().put("item_id", id).put("output_index", index));
        item.put("status", "completed");
        ObjectNode kept = item.deepCopy();
        if (include.contains("file_search_call.results")) {
            item.set("results", results);
        }
        kept.set("results", results); // what the model read, kept for the turns that follow
        out.done(index, item);
        return kept;
    }

    /** Emits a streamed response's events, numbered, and adds output items with their events. */
    private static final class Emitter {
        private final Events events;
        private int sequence;

        Emitter(Events events) {
            this.events = events;
        }

        void emit(String type, ObjectNode event) {
            if (events == null) {
                return;
            }
            ObjectNode e = Json.object().put("type", type).put("sequence_number", sequence++);
            e.setAll(event);
            events.event(type, Json.plain(e));
        }

        int add(ArrayNode output, ObjectNode item) {
            output.add(item);
            int index = output.size() - 1;
            emit("response.output_item.added", Json.object().put("output_index", index).set("item", item.deepCopy()));
            return index;
        }

        void done(int index, ObjectNode item) {
            emit("response.output_item.done", Json.object().put("output_index", index).set("item", item.deepCopy()));
        }
    }

    /** The prompts responses name by {@code prompt}, kept in this service's state store. */
    public io.corral.spi.Prompts prompts() {
        return prompts;
    }

    /**
     * The text of the request's {@code prompt} ({@code {id, version, variables}}, OpenAI's reusable prompt): the named
     * version (the default when none), its placeholders filled from {@code variables}; null when the request names none.
     * It comes before the request's {@code instructions}.
     */
    private String prompt(String tenant, JsonNode req) {
        JsonNode p = req.get("prompt");
        if (p == null || p.isNull()) {
            return null;
        }
        if (!p.isObject() || !p.path("id").isTextual()) {
            throw new InvalidRequestException("prompt", "prompt must be an object with the prompt's id (and a version and variables)");
        }
        JsonNode v = p.get("version");
        Integer version = null;
        if (v != null && !v.isNull()) {
            String text = v.asText();
            if (!(v.isTextual() || v.isIntegralNumber()) || !text.matches("[1-9][0-9]{0,8}")) {
                throw new InvalidRequestException("prompt.version", "prompt.version must be a version number, not " + v);
            }
            version = Integer.valueOf(text);
        }
        Map<String, String> values = new java.util.HashMap<>();
        JsonNode vars = p.get("variables");
        if (vars != null && !vars.isNull()) {
            if (!vars.isObject()) {
                throw new InvalidRequestException("prompt.variables", "prompt.variables must be an object of names and strings");
            }
            for (var e : vars.properties()) {
                if (!e.getValue().isTextual()) {
                    throw new InvalidRequestException("prompt.variables", "prompt.variables." + e.getKey() + " must be a string");
                }
                values.put(e.getKey(), e.getValue().asText());
            }
        }
        return io.corral.spi.Prompts.render(prompts.get(tenant, p.get("id").asText(), version).text(), values, "prompt.variables");
    }

    /** The response object before it runs: what the request set, echoed as OpenAI echoes it. */
    private ObjectNode skeleton(JsonNode req, String model, String previous, String conversation) {
        ObjectNode r = Json.object().put("id", Items.id("resp_")).put("object", "response")
                .put("created_at", clock.millis() / 1000).put("status", "in_progress").put("model", model);
        r.putNull("error");
        r.putNull("incomplete_details");
        r.set("instructions", req.hasNonNull("instructions") ? req.get("instructions") : null);
        if (req.hasNonNull("prompt")) {
            r.set("prompt", req.get("prompt"));
        }
        r.set("max_output_tokens", req.get("max_output_tokens"));
        r.set("metadata", req.hasNonNull("metadata") ? req.get("metadata") : Json.object());
        r.putArray("output");
        r.put("parallel_tool_calls", req.path("parallel_tool_calls").asBoolean(true));
        r.put("previous_response_id", previous);
        r.put("store", req.path("store").asBoolean(true));
        r.set("temperature", req.hasNonNull("temperature") ? req.get("temperature") : Json.MAPPER.getNodeFactory().numberNode(1.0));
        r.set("top_p", req.hasNonNull("top_p") ? req.get("top_p") : Json.MAPPER.getNodeFactory().numberNode(1.0));
        ObjectNode text = r.putObject("text");
        text.set("format", req.path("text").hasNonNull("format") ? req.path("text").get("format") : Json.object().put("type", "text"));
        r.set("tool_choice", req.hasNonNull("tool_choice") ? req.get("tool_choice") : Json.MAPPER.getNodeFactory().textNode("auto"));
        ArrayNode tools = r.putArray("tools"); // as asked, less an MCP server's credentials: never echoed, never kept past the run
        req.path("tools").forEach(t -> {
            JsonNode copy = t.deepCopy();
            if (copy instanceof ObjectNode o && o.path("type").asText().equals("mcp")) {
                o.remove(List.of("authorization", "headers"));
            }
            tools.add(copy);
        });
        r.put("truncation", "disabled");
        r.put("background", false);
        r.putNull("usage");
        r.putNull("user");
        if (conversation != null) {
            r.putObject("conversation").put("id", conversation);
        }
        return r;
    }

    /**
     * The request's plain fields, checked before anything runs (a background response too): a number, a whole number, a
     * flag or one of {@code truncation}'s values where OpenAI's API has one; anything else is a 400 naming the field.
     */
    static void checkFields(JsonNode req) {
        Checks.number(req, "temperature", "temperature");
        Checks.number(req, "top_p", "top_p");
        Checks.whole(req, "max_output_tokens", "max_output_tokens", 1);
        Checks.whole(req, "max_infer_iters", "max_infer_iters", 1);
        Checks.whole(req, "max_tool_calls", "max_tool_calls", 0); // no tool calls at all is a limit too
        for (String key : List.of("store", "background", "stream", "parallel_tool_calls")) {
            Checks.flag(req, key, key);
        }
        if (req.hasNonNull("truncation") && !List.of("auto", "disabled").contains(req.get("truncation").asText())) {
            throw new InvalidRequestException("truncation", "truncation must be auto or disabled, not " + req.get("truncation"));
        }
    }

    private static SamplingParams sampling(JsonNode req) {
        SamplingParams.Builder b = SamplingParams.builder();
        if (req.hasNonNull("temperature")) {
            b.temperature(req.get("temperature").asDouble());
        }
        if (req.hasNonNull("top_p")) {
            b.topP(req.get("top_p").asDouble());
        }
        if (req.hasNonNull("max_output_tokens")) {
            b.maxTokens(req.get("max_output_tokens").asInt());
        }
        return b.build();
    }

    private static ResponseFormat format(JsonNode f) {
        if (f == null || f.isMissingNode() || f.isNull()) {
            return null;
        }
        return switch (f.path("type").asText("text")) {
            case "text" -> null;
            case "json_object" -> ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                if (!f.hasNonNull("schema")) {
                    throw new InvalidRequestException("text.format", "a json_schema format needs its schema");
                }
                yield new ResponseFormat.JsonSchema(f.path("name").asText("response"), Json.text(f.get("schema")));
            }
            default -> throw new InvalidRequestException("text.format", "text.format.type must be text, json_object or json_schema");
        };
    }

    // ---- stored responses ----

    private static String key(String kind, String tenant, String id) {
        return kind + "/" + (tenant == null ? "-" : tenant) + "/" + id;
    }

    /**
     * Stores a response with its input and history; {@code request} (or null) kept while it waits to run in the
     * background. The end of a background response over a shared state store is written only over its record still
     * unfinished (a compare-and-set): a node stalled past its lease, whose response another node ran again and ended
     * (and someone may have deleted since), does not write its late end over that; false then, and nothing is written.
     */
    private boolean save(String tenant, ObjectNode response, List<ObjectNode> input, List<JsonNode> history, JsonNode request) {
        ObjectNode record = Json.object();
        record.set("response", response);
        if (request != null) {
            record.set("request", request);
        }
        ArrayNode in = record.putArray("input");
        input.forEach(in::add);
        ArrayNode h = record.putArray("history"); // what came before, so a chain is read from its last link
        history.forEach(h::add);
        String id = response.get("id").asText();
        String key = key("responses", tenant, id);
        if (request != null) { // waiting or running in the background: found by a node taking over, until it ends
            state.setAll(Map.of(key, Json.text(record), key("background", tenant, id), ""));
            return true;
        }
        boolean background = response.path("background").asBoolean(false);
        if (background && state.shared()) {
            String now = state.get(key).orElse(null);
            String status = now == null ? "" : Json.parse(now).path("response").path("status").asText();
            if (!status.equals("queued") && !status.equals("in_progress") || !state.compareAndSet(key, now, Json.text(record), null)) {
                return false; // ended by another node, or deleted
            }
        } else {
            state.set(key, Json.text(record));
        }
        if (background) {
            state.delete(key("background", tenant, id));
        }
        return true;
    }

    private ObjectNode stored(String tenant, String id) {
        return (ObjectNode) state.get(key("responses", tenant, id)).map(Json::parse)
                .orElseThrow(() -> new NotFoundException("response_id", "no response '" + id + "'"));
    }

    @Override
    public Map<String, Object> get(String tenant, String id) {
        return Json.plain(stored(tenant, id).get("response"));
    }

    @Override
    public Map<String, Object> delete(String tenant, String id) {
        stored(tenant, id);
        state.delete(key("responses", tenant, id));
        return Json.plain(Json.object().put("id", id).put("object", "response").put("deleted", true));
    }

    @Override
    public List<Map<String, Object>> inputItems(String tenant, String id) {
        List<JsonNode> items = new ArrayList<>();
        stored(tenant, id).path("input").forEach(items::add);
        return newestFirst(items);
    }

    @Override
    public List<Map<String, Object>> list(String tenant, String model) {
        List<JsonNode> all = new ArrayList<>();
        for (var e : state.prefix(key("responses", tenant, ""))) {
            JsonNode r = Json.parse(e.getValue()).get("response");
            if (model == null || model.equals(r.path("model").asText())) {
                all.add(r);
            }
        }
        return newestFirst(all);
    }

    private static List<Map<String, Object>> newestFirst(List<JsonNode> oldestFirst) {
        List<Map<String, Object>> out = new ArrayList<>(Json.plain(oldestFirst));
        java.util.Collections.reverse(out);
        return out;
    }

    // ---- conversations ----

    private static String conversationId(JsonNode c) {
        if (c == null || c.isNull()) {
            return null;
        }
        String id = c.isObject() ? c.path("id").asText("") : c.asText("");
        if (id.isBlank()) {
            throw new InvalidRequestException("conversation", "conversation must be an id or {\"id\": ...}");
        }
        return id;
    }

    private ObjectNode conversationRecord(String tenant, String id) {
        return (ObjectNode) state.get(key("conversations", tenant, id)).map(Json::parse)
                .orElseThrow(() -> new NotFoundException("conversation_id", "no conversation '" + id + "'"));
    }

    @Override
    public Map<String, Object> createConversation(String tenant, List<Map<String, Object>> items, Map<String, String> metadata) {
        ObjectNode c = Json.object().put("id", Items.id("conv_")).put("object", "conversation").put("created_at", clock.millis() / 1000);
        c.set("metadata", Json.tree(metadata == null ? Map.of() : metadata));
        List<JsonNode> parsed = new ArrayList<>();
        for (int i = 0; items != null && i < items.size(); i++) {
            parsed.add(Items.item(Json.tree(items.get(i)), "items[" + i + "]"));
        }
        state.set(key("conversations", tenant, c.get("id").asText()), Json.text(c));
        append(tenant, c.get("id").asText(), parsed);
        return Json.plain(c);
    }

    @Override
    public Map<String, Object> conversation(String tenant, String id) {
        return Json.plain(conversationRecord(tenant, id));
    }

    @Override
    public Map<String, Object> updateConversation(String tenant, String id, Map<String, String> metadata) {
        ObjectNode c = conversationRecord(tenant, id);
        c.set("metadata", Json.tree(metadata == null ? Map.of() : metadata));
        state.set(key("conversations", tenant, id), Json.text(c));
        return Json.plain(c);
    }

    @Override
    public Map<String, Object> deleteConversation(String tenant, String id) {
        conversationRecord(tenant, id);
        for (var e : state.prefix(key("conversation_items", tenant, id + "/"))) {
            state.delete(e.getKey());
        }
        state.delete(key("conversations", tenant, id));
        return Json.plain(Json.object().put("id", id).put("object", "conversation.deleted").put("deleted", true));
    }

    private List<JsonNode> conversationItems(String tenant, String conversation) {
        List<JsonNode> items = new ArrayList<>();
        for (var e : state.prefix(key("conversation_items", tenant, conversation + "/"))) {
            items.add(Json.parse(e.getValue()));
        }
        return items;
    }

    /** Appends items under keys that sort in the order they came (a time-ordered sequence). */
    private synchronized void append(String tenant, String conversation, List<? extends JsonNode> items) {
        Map<String, String> entries = new java.util.LinkedHashMap<>();
        long base = System.nanoTime();
        for (JsonNode item : items) {
            entries.put(key("conversation_items", tenant, conversation + "/" + String.format("%016x", clock.millis())
                    + String.format("%08x", entries.size()) + String.format("%08x", base & 0xffffffffL)), Json.text(item));
        }
        if (!entries.isEmpty()) {
            state.setAll(entries);
        }
    }

    @Override
    public List<Map<String, Object>> items(String tenant, String conversationId) {
        conversationRecord(tenant, conversationId);
        return newestFirst(conversationItems(tenant, conversationId));
    }

    @Override
    public List<Map<String, Object>> addItems(String tenant, String conversationId, List<Map<String, Object>> items) {
        conversationRecord(tenant, conversationId);
        if (items == null || items.isEmpty() || items.size() > 20) {
            throw new InvalidRequestException("items", "items must be a list of 1 to 20 items");
        }
        List<JsonNode> parsed = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            parsed.add(Items.item(Json.tree(items.get(i)), "items[" + i + "]"));
        }
        append(tenant, conversationId, parsed);
        return Json.plain(parsed);
    }

    @Override
    public Map<String, Object> item(String tenant, String conversationId, String itemId) {
        conversationRecord(tenant, conversationId);
        for (JsonNode i : conversationItems(tenant, conversationId)) {
            if (itemId.equals(i.path("id").asText())) {
                return Json.plain(i);
            }
        }
        throw new NotFoundException("item_id", "no item '" + itemId + "' in conversation '" + conversationId + "'");
    }

    @Override
    public Map<String, Object> deleteItem(String tenant, String conversationId, String itemId) {
        conversationRecord(tenant, conversationId);
        for (var e : state.prefix(key("conversation_items", tenant, conversationId + "/"))) {
            if (itemId.equals(Json.parse(e.getValue()).path("id").asText())) {
                state.delete(e.getKey());
                return conversation(tenant, conversationId);
            }
        }
        throw new NotFoundException("item_id", "no item '" + itemId + "' in conversation '" + conversationId + "'");
    }

    @Override
    public void close() {
        leases.stopKeeping(); // no other node's response is taken over now: it could not run here
        running.values().forEach(r -> {
            r.stopping = true;
            r.cancelled = true;
            TokenStream s = r.stream;
            if (s != null) {
                s.cancel();
            }
        });
        background.shutdown();
        try {
            background.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leases.close(); // another node may run what was left queued here at once
    }
}

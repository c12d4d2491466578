package io.corral.server.batches;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.NotFoundException;
import io.corral.server.http.ApiException;
import io.corral.server.http.Errors;
import io.corral.server.http.Fields;
import io.corral.server.http.Ids;
import io.corral.server.http.Json;
import io.corral.server.http.Page;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.server.openai.OpenAiRequests;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.Leases;
import io.corral.spi.Span;
import io.corral.spi.Spans;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * OpenAI's Batch API ({@code /v1/batches}, which Llama Stack 0.7 serves too): a JSONL file of requests, uploaded with
 * purpose {@code batch}, run in the background against {@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/embeddings} or (when the server has them) {@code /v1/responses}, each line
 * answered as its route answers it (the same mapping, guardrails and admission), the answers written to an output file and
 * the failed ones, with their error, to an error file (purpose {@code batch_output}, in the input's order). A batch is
 * validated first: every line JSON with a unique {@code custom_id}, {@code POST}, the batch's endpoint and a body that does
 * not stream; any wrong line fails the batch whole, each error naming its line. Batches and their progress are kept in
 * the state store under their API key's tenant; one found unfinished at start runs again from its first line (its files
 * are written only at its end). Over a shared state store each running batch is leased to its node ({@link Leases}), and a
 * live node runs again the batches of a node that died. Cancelling stops a batch between lines; what was answered is
 * written out; when the 24 hours of its completion window end, the requests not yet started are written to the error
 * file as {@code batch_expired} and the batch is {@code expired}. Each request is a trace of its own, found by {@code corral.batch_id} and {@code corral.custom_id}.
 */
public final class BatchesApi implements Routes.Api, AutoCloseable {

    /** What answers a batch's requests: the endpoints it serves, and one request answered whole as its route answers it. */
    public interface Answerer {
        /** The endpoints a batch may name. */
        Set<String> endpoints();

        /** One request of {@code tenant}'s answered whole (its id made of {@code id}); a failure thrown as it is. */
        JsonNode answer(String tenant, String endpoint, JsonNode body, String id) throws Exception;
    }

    /** What sees a batch's requests as the pipeline sees the port's: each one's trace, and its outcome for the metrics. */
    public interface Observer {
        /** A root span for one of a batch's requests (a trace of its own). */
        Span start(String name, Map<String, String> attributes);

        /** One request answered ({@code status} 200) or failed, with its model and tokens (-1 when unknown). */
        void finished(String endpoint, String model, int status, long promptTokens, long completionTokens);
    }

    private static final System.Logger LOG = System.getLogger("corral.batches");
    /** OpenAI's bound on a batch's requests. */
    static final int MAX_REQUESTS = 50_000;
    /** OpenAI's bound on a batch's input file. */
    static final long MAX_INPUT_BYTES = 200L << 20;
    /** The errors a failed validation lists at most. */
    private static final int MAX_ERRORS = 100;
    /** A batch's lines answered at once: the engine batches them (continuous batching). */
    private static final int PARALLEL = 4;

    private final FilesProvider files;
    private final KeyValueStore kv;
    private final Answerer answerer;
    private final Observer observer;
    private final Clock clock;
    private final ExecutorService runs = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Run> running = new ConcurrentHashMap<>();
    private final Leases leases;
    private volatile boolean closed;

    /** A batch being run here: its tenant and id, and whether it was asked to stop. */
    private record Run(String tenant, String id, java.util.concurrent.atomic.AtomicBoolean cancelled) {
    }

    /** A validated line: its place, id and body. */
    private record Line(int number, String customId, JsonNode body) {
    }

    public BatchesApi(FilesProvider files, KeyValueStore kv, Answerer answerer, Observer observer, Clock clock) {
        this.files = files;
        this.kv = kv;
        this.answerer = answerer;
        this.observer = observer;
        this.clock = clock;
        this.leases = new Leases(kv, clock);
        resume();
        leases.keep("corral-batches", this::resume);
    }

    /** A batch's lease name. */
    private static String work(String id) {
        return "batch/" + id;
    }

    /** Whether the run must stop writing: the server is stopping, or another node took the batch over (this one stalled). */
    private boolean stopped(Run run) {
        return closed || !leases.holds(work(run.id()));
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/batches", this::create)
                .get("/v1/batches", (req, res) -> res.json(200, Page.of(req, list(req.tenant()), o -> o.path("id").asText(), o -> o, 20, 100)))
                .get("/v1/batches/{batch_id}", (req, res) -> res.json(200, get(req.tenant(), req.param("batch_id"))))
                .post("/v1/batches/{batch_id}/cancel", (req, res) -> res.json(200, cancel(req.tenant(), req.param("batch_id"))));
    }

    private static String prefix(String tenant) {
        return "batch/" + (tenant == null ? "-" : tenant) + "/";
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private void create(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        res.json(200, create(req.tenant(), required(body, "input_file_id"), required(body, "endpoint"), required(body, "completion_window"),
                OpenAiRequests.metadata(body)));
    }

    /** A new batch of {@code tenant}'s, started; the batch as it now is. */
    ObjectNode create(String tenant, String input, String endpoint, String window, Map<String, String> metadata) {
        if (!answerer.endpoints().contains(endpoint)) {
            throw ApiException.badRequest("endpoint", "endpoint must be one of " + new java.util.TreeSet<>(answerer.endpoints())
                    + ", was '" + endpoint + "'");
        }
        if (!window.equals("24h")) {
            throw ApiException.badRequest("completion_window", "completion_window must be 24h, was '" + window + "'");
        }
        FilesProvider.FileInfo file = files.get(tenant, input)
                .orElseThrow(() -> new NotFoundException("input_file_id", "no file " + input));
        if (file.bytes() > MAX_INPUT_BYTES) {
            throw ApiException.badRequest("input_file_id", "a batch's input file holds at most " + (MAX_INPUT_BYTES >> 20) + " MB; "
                    + input + " has " + file.bytes() + " bytes");
        }
        if (!"batch".equals(file.purpose())) {
            throw ApiException.badRequest("input_file_id", "file " + input + " was uploaded with purpose '" + file.purpose()
                    + "'; a batch's input needs purpose 'batch'");
        }
        long now = now();
        ObjectNode b = Json.MAPPER.createObjectNode().put("id", Ids.random("batch_")).put("object", "batch")
                .put("endpoint", endpoint).putNull("errors").put("input_file_id", input).put("completion_window", window)
                .put("status", "validating").putNull("output_file_id").putNull("error_file_id").put("created_at", now)
                .putNull("in_progress_at").put("expires_at", now + 24 * 3600).putNull("finalizing_at").putNull("completed_at")
                .putNull("failed_at").putNull("expired_at").putNull("cancelling_at").putNull("cancelled_at");
        b.putObject("request_counts").put("total", 0).put("completed", 0).put("failed", 0);
        b.set("metadata", Json.MAPPER.valueToTree(metadata));
        String id = b.path("id").asText();
        leases.take(work(id)); // a new id: nobody else holds it
        kv.set(prefix(tenant) + id, b.toString());
        start(tenant, id);
        return b;
    }

    private static String required(JsonNode body, String field) {
        String v = Fields.text(body, field, field);
        if (v == null || v.isBlank()) {
            throw ApiException.badRequest(field, field + " is required");
        }
        return v;
    }

    ObjectNode get(String tenant, String id) {
        return kv.get(prefix(tenant) + id).map(json -> Json.stored(json, "a batch's record"))
                .orElseThrow(() -> new NotFoundException("batch_id", "no batch " + id));
    }

    /** The tenant's batches, newest first. */
    List<ObjectNode> list(String tenant) {
        List<ObjectNode> out = new ArrayList<>();
        kv.prefix(prefix(tenant)).forEach(e -> out.add(Json.stored(e.getValue(), "a batch's record")));
        out.sort(Comparator.comparingLong((ObjectNode o) -> o.path("created_at").asLong()).thenComparing(o -> o.path("id").asText()).reversed());
        return out;
    }

    ObjectNode cancel(String tenant, String id) {
        get(tenant, id); // another tenant's is not there
        Run run = running.get(id);
        // not running here: either another node runs it (it holds the lease, and sees the status at its next update and
        // stops), or nobody does (a stop left it), and nothing is left to stop
        boolean nobody = run == null && leases.take(work(id));
        try {
            ObjectNode b = change(tenant, id, o -> {
                String status = o.path("status").asText();
                switch (status) {
                    case "cancelling", "cancelled" -> {
                        return o;
                    }
                    case "completed", "failed", "expired" ->
                            throw ApiException.conflict("batch_id", "batch " + id + " is " + status + ": it cannot be cancelled");
                    default -> {
                        o.put("status", nobody ? "cancelled" : "cancelling").put("cancelling_at", now());
                        return nobody ? o.put("cancelled_at", now()) : o;
                    }
                }
            });
            if (run != null) {
                run.cancelled().set(true);
            }
            return b;
        } finally {
            if (nobody) {
                leases.release(work(id));
            }
        }
    }

    /** Changes a batch's record by compare-and-set ({@link KeyValueStore#change}): nodes sharing the store lose no change. */
    private ObjectNode change(String tenant, String id, java.util.function.UnaryOperator<ObjectNode> f) {
        return Json.stored(kv.change(prefix(tenant) + id, json -> f.apply(Json.stored(json, "a batch's record")).toString())
                .orElseThrow(() -> new NotFoundException("batch_id", "no batch " + id)), "a batch's record");
    }

    /**
     * Changes a batch's record: {@code change} edits it; a batch being cancelled keeps that status until it is cancelled.
     * The record as it now is.
     */
    private ObjectNode update(Run run, java.util.function.Consumer<ObjectNode> change) {
        return change(run.tenant(), run.id(), b -> {
            String before = b.path("status").asText();
            if (before.equals("cancelling")) {
                run.cancelled().set(true); // asked here, or on another node sharing the state store
            }
            change.accept(b);
            if (before.equals("cancelling") && !b.path("status").asText().equals("cancelled")) {
                b.put("status", "cancelling");
            }
            return b;
        });
    }

    /**
     * Runs again the batches left unfinished by the last run of the server (or, over a shared state store, by a node that
     * died: those whose lease this node can take); those being cancelled are cancelled.
     */
    private synchronized void resume() {
        for (var e : kv.prefix("batch/")) {
            String[] at = e.getKey().substring("batch/".length()).split("/", 2);
            if (at.length < 2 || running.containsKey(at[1])) {
                continue;
            }
            ObjectNode b = Json.stored(e.getValue(), "a batch's record");
            String tenant = at[0].equals("-") ? null : at[0];
            switch (b.path("status").asText()) {
                case "validating", "in_progress", "finalizing" -> {
                    if (closed || !leases.take(work(at[1]))) {
                        continue; // another node runs it
                    }
                    LOG.log(System.Logger.Level.INFO, "running batch " + at[1] + " again from its first request");
                    start(tenant, at[1]);
                }
                case "cancelling" -> { // asked while a stop left it: nobody runs it (unless another node does, holding it)
                    if (!closed && leases.take(work(at[1]))) {
                        change(tenant, at[1], o -> o.path("status").asText().equals("cancelling")
                                ? o.put("status", "cancelled").put("cancelled_at", now()) : o);
                        leases.release(work(at[1]));
                    }
                }
                default -> {
                }
            }
        }
    }

    private void start(String tenant, String id) {
        Run run = new Run(tenant, id, new java.util.concurrent.atomic.AtomicBoolean());
        running.put(id, run);
        runs.submit(() -> {
            try {
                run(run);
            } catch (Exception e) {
                if (!stopped(run)) {
                    LOG.log(System.Logger.Level.WARNING, "batch " + id + " failed", e);
                    update(run, b -> b.put("status", "failed").put("failed_at", now()).set("errors",
                            errors(List.of(error("internal_error", String.valueOf(e.getMessage()), null, 0)))));
                }
            } finally {
                running.remove(id);
                if (!closed) {
                    leases.release(work(id));
                }
            }
        });
    }

    private void run(Run run) throws Exception {
        ObjectNode b = get(run.tenant(), run.id());
        String endpoint = b.path("endpoint").asText();
        String input = b.path("input_file_id").asText();
        long expiresAt = b.path("expires_at").asLong(Long.MAX_VALUE);
        List<ObjectNode> errors = new ArrayList<>();
        // read twice: once to check every line (keeping only their ids), once to run them, so a large file's requests
        // are never all in memory
        int total = read(run.tenant(), input, endpoint, errors, line -> true);
        if (!errors.isEmpty()) {
            update(run, o -> o.put("status", "failed").put("failed_at", now()).set("errors", errors(errors)));
            return;
        }
        update(run, o -> {
            o.put("status", "in_progress").put("in_progress_at", now());
            o.putObject("request_counts").put("total", total).put("completed", 0).put("failed", 0);
        });
        AtomicInteger completed = new AtomicInteger(), failed = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<IOException> unwritten = new java.util.concurrent.atomic.AtomicReference<>();
        Semaphore permits = new Semaphore(PARALLEL);
        // answers go to files as they come (in the order they finish, as OpenAI's do: lines are matched by custom_id),
        // so a batch of 50,000 holds none of them in memory
        Path dir = Files.createTempDirectory("corral-batch-");
        Path outputs = dir.resolve("output.jsonl"), failures = dir.resolve("error.jsonl");
        try {
            try (BufferedWriter ok = Files.newBufferedWriter(outputs); BufferedWriter bad = Files.newBufferedWriter(failures);
                 ExecutorService each = Executors.newVirtualThreadPerTaskExecutor()) {
                read(run.tenant(), input, endpoint, new ArrayList<>(), line -> {
                    permits.acquire();
                    if (run.cancelled().get() || stopped(run)) { // asked while this waited for a line to finish: no more start
                        return false;
                    }
                    if (expired.get() || now() >= expiresAt) { // the completion window is over: what was not started is not run
                        permits.release();
                        expired.set(true);
                        synchronized (bad) {
                            writeExpired(bad, line);
                        }
                        failed.incrementAndGet();
                        return true;
                    }
                    each.submit(() -> {
                        try {
                            Answered a = answer(run, endpoint, line);
                            if (a == null) {
                                return; // stopped meanwhile: whoever runs the batch again answers it
                            }
                            BufferedWriter to = a.ok() ? ok : bad;
                            synchronized (to) {
                                to.write(a.line().toString());
                                to.newLine();
                            }
                            (a.ok() ? completed : failed).incrementAndGet();
                            if (!stopped(run)) {
                                update(run, o -> o.putObject("request_counts").put("total", total).put("completed", completed.get())
                                        .put("failed", failed.get()));
                            }
                        } catch (IOException e) {
                            unwritten.compareAndSet(null, e);
                        } finally {
                            permits.release();
                        }
                    });
                    return true;
                });
            }
            if (unwritten.get() != null) {
                throw unwritten.get();
            }
            if (stopped(run)) {
                return; // the server is stopping (the batch runs again at the next start), or another node runs it now
            }
            boolean cancelled = run.cancelled().get();
            if (!cancelled && !expired.get()) {
                update(run, o -> o.put("status", "finalizing").put("finalizing_at", now()));
            }
            String output = completed.get() == 0 ? null : upload(run, "output", outputs);
            String error = failed.get() == 0 ? null : upload(run, "error", failures);
            update(run, o -> {
                o.put("output_file_id", output).put("error_file_id", error);
                o.putObject("request_counts").put("total", total).put("completed", completed.get()).put("failed", failed.get());
                if (cancelled) {
                    o.put("status", "cancelled").put("cancelled_at", now());
                } else if (expired.get()) {
                    o.put("status", "expired").put("expired_at", now());
                } else {
                    o.put("status", "completed").put("completed_at", now());
                }
            });
        } finally {
            Files.deleteIfExists(outputs);
            Files.deleteIfExists(failures);
            Files.deleteIfExists(dir);
        }
    }

    /** The error line of a request the completion window ended before it ran, as OpenAI writes one. */
    private static void writeExpired(BufferedWriter to, Line line) {
        ObjectNode out = Json.MAPPER.createObjectNode().put("id", Ids.random("batch_req_"))
                .put("custom_id", line.customId()).putNull("response");
        out.putObject("error").put("code", "batch_expired").put("message", "This request could not be executed before the completion window expired.");
        try {
            to.write(out.toString());
            to.newLine();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A line answered: its output line, and whether it succeeded. */
    private record Answered(ObjectNode line, boolean ok) {
    }

    /**
     * Answers one line as its route does, a trace of its own; a failure is answered with its status and OpenAI's error
     * body. Null when the run stopped meanwhile.
     */
    private Answered answer(Run run, String endpoint, Line line) {
        String requestId = Ids.random("batch_req_");
        ObjectNode out = Json.MAPPER.createObjectNode().put("id", requestId).put("custom_id", line.customId());
        ObjectNode response = out.putObject("response").put("request_id", requestId);
        Map<String, String> attributes = new java.util.LinkedHashMap<>();
        attributes.put("corral.batch_id", run.id());
        attributes.put("corral.custom_id", line.customId());
        attributes.put("corral.request_id", requestId);
        if (run.tenant() != null) {
            attributes.put(io.corral.telemetry.TraceStore.OWNER, run.tenant()); // whose trace it is
        }
        Span span = observer.start("batch POST " + endpoint, attributes);
        boolean ok = false;
        String model = line.body().path("model").asText();
        try {
            JsonNode answer = Spans.within(span, () -> answerer.answer(run.tenant(), endpoint, line.body(), requestId.substring("batch_req_".length())));
            response.put("status_code", 200).set("body", answer);
            ok = true;
            JsonNode usage = answer.path("usage"); // chat and text completions', embeddings' and responses' names
            observer.finished(endpoint, model, 200, usage.has("input_tokens") ? usage.path("input_tokens").asLong() : usage.path("prompt_tokens").asLong(-1),
                    usage.has("output_tokens") ? usage.path("output_tokens").asLong() : usage.path("completion_tokens").asLong(0));
        } catch (Exception e) {
            span.fail(e);
            if (stopped(run)) {
                return null;
            }
            Errors.Mapped m = Errors.map(e);
            response.put("status_code", m.status()).set("body", Errors.body(m));
            observer.finished(endpoint, model, m.status(), -1, -1);
        } finally {
            span.end();
        }
        out.putNull("error");
        return new Answered(out, ok);
    }

    private String upload(Run run, String kind, Path jsonl) throws IOException {
        try (InputStream in = Files.newInputStream(jsonl)) {
            return files.upload(run.tenant(), run.id() + "_" + kind + ".jsonl", "batch_output", null, in).id();
        }
    }

    /** Takes each of the input file's requests in turn; false stops the reading. */
    private interface Lines {
        boolean take(Line line) throws InterruptedException;
    }

    /**
     * Reads the input file, giving each good line to {@code each} (until it says stop), what is wrong with the others to
     * {@code errors}; the number of good lines.
     */
    private int read(String tenant, String fileId, String endpoint, List<ObjectNode> errors, Lines each) throws IOException, InterruptedException {
        int good = 0;
        InputStream content = files.content(tenant, fileId).orElse(null);
        if (content == null) {
            errors.add(error("invalid_request", "the input file " + fileId + " was deleted", "input_file_id", 0));
            return 0;
        }
        Set<String> ids = new HashSet<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(content, StandardCharsets.UTF_8))) {
            int number = 0;
            for (String text; (text = in.readLine()) != null && errors.size() < MAX_ERRORS; ) {
                number++;
                if (text.isBlank()) {
                    continue;
                }
                if (good == MAX_REQUESTS) {
                    errors.add(error("too_many_requests", "a batch holds at most " + MAX_REQUESTS + " requests", null, number));
                    break;
                }
                JsonNode line;
                try {
                    line = Json.MAPPER.readTree(text);
                } catch (IOException e) {
                    errors.add(error("invalid_json_line", "this line is not valid JSON", null, number));
                    continue;
                }
                if (!line.isObject()) {
                    errors.add(error("invalid_request", "each line must be a JSON object", null, number));
                    continue;
                }
                int before = errors.size();
                JsonNode customId = line.get("custom_id"), method = line.get("method"), url = line.get("url"), body = line.get("body");
                if (customId == null || !customId.isTextual() || customId.asText().isEmpty()) {
                    errors.add(error("missing_required_parameter", "custom_id is required: a string", "custom_id", number));
                } else if (!ids.add(customId.asText())) {
                    errors.add(error("duplicate_custom_id", "custom_id '" + customId.asText() + "' is used by an earlier line", "custom_id", number));
                }
                if (method == null || !"POST".equals(method.asText())) {
                    errors.add(error("invalid_method", "method must be POST", "method", number));
                }
                if (url == null || !endpoint.equals(url.asText())) {
                    errors.add(error("invalid_url", "url must be the batch's endpoint, " + endpoint, "url", number));
                }
                if (body == null || !body.isObject()) {
                    errors.add(error("missing_required_parameter", "body is required: a JSON object", "body", number));
                } else if (body.path("stream").asBoolean(false)) {
                    errors.add(error("streaming_unsupported", "a batch's requests cannot stream", "body.stream", number));
                } else if (body.path("background").asBoolean(false)) {
                    errors.add(error("invalid_request", "a batch's requests run in the background already", "body.background", number));
                } else if (!body.path("model").isTextual()) {
                    errors.add(error("missing_required_parameter", "body.model is required: a string", "body.model", number));
                }
                if (errors.size() == before) {
                    good++;
                    if (!each.take(new Line(number, customId.asText(), body))) {
                        break;
                    }
                }
            }
        }
        if (good == 0 && errors.isEmpty()) {
            errors.add(error("empty_file", "the input file holds no requests", "input_file_id", 0));
        }
        return good;
    }

    private static ObjectNode error(String code, String message, String param, int line) {
        ObjectNode e = Json.MAPPER.createObjectNode().put("code", code).put("message", message).put("param", param);
        return line > 0 ? e.put("line", line) : e.putNull("line");
    }

    private static ObjectNode errors(List<ObjectNode> list) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        list.forEach(data::add);
        return o;
    }


    /**
     * Stops the batches running here; they stay unfinished in the state store and run again at the next start, or on
     * another node sharing the state store, once their leases are given up.
     */
    @Override
    public void close() {
        closed = true;
        leases.stopKeeping();
        runs.shutdownNow();
        leases.close();
    }
}

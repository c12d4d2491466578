package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.ContextOverflowException;
import io.corral.api.EmbeddingRequest;
import io.corral.api.EmbeddingResult;
import io.corral.api.EngineException;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.InvalidRequestException;
import io.corral.api.ModelNotFoundException;
import io.corral.api.RateLimitedException;
import io.corral.api.TokenStream;
import io.corral.api.UnavailableException;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * A remote engine that speaks the OpenAI wire protocol; the {@link Preset} says which kind. All remote
 * providers share one HTTP client (connection pooling; HTTP/2 where the server offers it over TLS,
 * HTTP/1.1 otherwise). Models come from the host's {@code /v1/models} ({@link #discover()}).
 */
public final class OpenAiRemoteProvider implements InferenceProvider {

    private static final HttpClient TRANSPORT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_2)
            .connectTimeout(Duration.ofSeconds(5))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    private static final Set<Capability> CAPABILITIES =
            EnumSet.of(Capability.CHAT, Capability.COMPLETION, Capability.JSON_SCHEMA, Capability.TOOLS,
                    Capability.EMBEDDINGS, Capability.VISION);

    private final RemoteConfig config;
    private volatile List<ModelInfo> models = List.of();

    public OpenAiRemoteProvider(RemoteConfig config) {
        this.config = config;
    }

    public RemoteConfig config() {
        return config;
    }

    @Override
    public String id() {
        return config.id();
    }

    @Override
    public String type() {
        return config.preset().type();
    }

    @Override
    public String vendor() {
        return config.preset().vendor;
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public int priority() {
        return config.priority();
    }

    @Override
    public boolean local() {
        return config.preset().local;
    }

    @Override
    public List<ModelInfo> models() {
        return models;
    }

    /** Reads the host's {@code /v1/models} and remembers them; a dead host fails fast (connect timeout). */
    public List<ModelInfo> discover() {
        JsonNode body = getJson("/models", config.connectTimeout().plus(config.connectTimeout()));
        List<ModelInfo> found = new ArrayList<>();
        for (JsonNode m : body.path("data")) {
            String id = m.path("id").asText(m.path("identifier").asText(""));
            if (id.isEmpty()) {
                continue;
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("host", config.baseUrl());
            meta.put("runtime", config.preset().vendor);
            int context = firstInt(m, "/meta/n_ctx_train", "/max_model_len", "/context_length",
                    "/metadata/context_length", "/loaded_context_length", "/max_context_length");
            String quant = firstText(m, "/metadata/quantization", "/quantization", "/details/quantization_level");
            if (quant != null) {
                meta.put("quantization", quant);
            }
            if (m.path("meta").isObject()) {
                meta.put("engine_meta", WireFormat.JSON.convertValue(m.get("meta"), Map.class));
            }
            found.add(new ModelInfo(id, config.id(), context, CAPABILITIES, meta));
        }
        models = List.copyOf(found);
        return models;
    }

    /** A cheap request that says whether the host is up; returns the latency or throws. */
    public Duration probe() {
        long t0 = System.nanoTime();
        URI uri = URI.create(config.baseUrl() + config.preset().healthPath).normalize();
        send(HttpRequest.newBuilder(uri).GET(), config.connectTimeout().plus(config.connectTimeout()),
                HttpResponse.BodyHandlers.discarding());
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** One JSON answer from the host (no stream to parse). */
    @Override
    public ChatResult chat(ChatRequest request) {
        return whole("/chat/completions", WireFormat.whole(WireFormat.chat(request.model(), request)), request.model(), false);
    }

    @Override
    public ChatResult complete(CompletionRequest request) {
        return whole("/completions", WireFormat.whole(WireFormat.completion(request.model(), request)), request.model(), true);
    }

    private ChatResult whole(String path, ObjectNode body, String model, boolean completion) {
        long start = System.nanoTime();
        HttpResponse<InputStream> r = send(post(path, body), config.firstTokenTimeout(), HttpResponse.BodyHandlers.ofInputStream());
        JsonNode json;
        try (InputStream in = r.body()) {
            json = WireFormat.JSON.readTree(in);
        } catch (IOException e) {
            throw new UnavailableException("upstream " + id() + " cut its answer: " + e.getMessage(), e);
        }
        JsonNode choice = json.path("choices").path(0);
        String text = completion ? choice.path("text").asText("") : choice.path("message").path("content").asText("");
        List<io.corral.api.ToolCall> calls = new ArrayList<>();
        for (JsonNode c : choice.path("message").path("tool_calls")) {
            calls.add(new io.corral.api.ToolCall(c.path("id").asText(), c.path("function").path("name").asText(),
                    c.path("function").path("arguments").asText("{}")));
        }
        JsonNode u = json.path("usage");
        Duration latency = Duration.ofNanos(System.nanoTime() - start);
        return new ChatResult(text, calls, RemoteStream.finishReason(choice.path("finish_reason").asText("stop")),
                new io.corral.api.Usage(u.path("prompt_tokens").asInt(), u.path("prompt_tokens_details").path("cached_tokens").asInt(),
                        u.path("completion_tokens").asInt()),
                new io.corral.api.Metrics(model, id(), latency, latency, 0));
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        return open("/chat/completions", WireFormat.chat(request.model(), request), request.model(), false);
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        return open("/completions", WireFormat.completion(request.model(), request), request.model(), true);
    }

    @Override
    public EmbeddingResult embed(EmbeddingRequest request) {
        ObjectNode body = WireFormat.JSON.createObjectNode().put("model", request.model());
        var input = body.putArray("input");
        request.inputs().forEach(input::add);
        HttpResponse<InputStream> r = send(post("/embeddings", body), config.firstTokenTimeout(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            JsonNode json = WireFormat.JSON.readTree(in);
            List<float[]> vectors = new ArrayList<>();
            for (JsonNode d : json.path("data")) {
                float[] v = new float[d.path("embedding").size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) d.path("embedding").get(i).asDouble();
                }
                vectors.add(v);
            }
            return new EmbeddingResult(request.model(), vectors, json.path("usage").path("prompt_tokens").asInt());
        } catch (IOException e) {
            throw new UnavailableException("upstream " + id() + " cut the embeddings response", e);
        }
    }

    private TokenStream open(String path, ObjectNode body, String model, boolean completion) {
        long start = System.nanoTime();
        HttpResponse<InputStream> r = send(post(path, body), config.firstTokenTimeout(), HttpResponse.BodyHandlers.ofInputStream());
        return new RemoteStream(r.body(), model, id(), completion, start, config.idleTimeout());
    }

    private HttpRequest.Builder post(String path, ObjectNode body) {
        return HttpRequest.newBuilder(URI.create(config.baseUrl() + path))
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream, application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private JsonNode getJson(String path, Duration timeout) {
        HttpResponse<InputStream> r = send(HttpRequest.newBuilder(URI.create(config.baseUrl() + path)).GET(), timeout,
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            return WireFormat.JSON.readTree(in);
        } catch (IOException e) {
            throw new UnavailableException("upstream " + id() + " sent an unreadable " + path + ": " + e.getMessage(), e);
        }
    }

    /** Sends, mapping transport failures and error statuses to Corral's typed errors. */
    private <T> HttpResponse<T> send(HttpRequest.Builder b, Duration timeout, HttpResponse.BodyHandler<T> handler) {
        if (config.apiKey() != null && !config.apiKey().isBlank()) {
            b.header("Authorization", "Bearer " + config.apiKey());
        }
        HttpRequest request = b.timeout(timeout).version(config.baseUrl().startsWith("https")
                ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1).build();
        HttpResponse<T> response;
        try {
            response = TRANSPORT.send(request, handler);
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new UnavailableException("cannot connect to " + id() + " (" + config.baseUrl() + "): " + describe(e), e);
        } catch (HttpTimeoutException e) {
            throw new InferenceTimeoutException("no answer from " + id() + " within " + timeout.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new UnavailableException("connection to " + id() + " failed: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.corral.api.CancelledException("interrupted while calling " + id());
        }
        int status = response.statusCode();
        if (status / 100 == 2) {
            return response;
        }
        String message = errorMessage(response);
        throw switch (status) {
            case 400, 422 -> message.contains("context") ? new ContextOverflowException(id() + ": " + message)
                    : new InvalidRequestException(null, id() + ": " + message);
            case 401, 403 -> new EngineException(id() + " refused the API key: " + message);
            case 404 -> new ModelNotFoundException(id() + ": " + message);
            case 408 -> new InferenceTimeoutException(id() + ": " + message);
            case 429 -> new RateLimitedException(id() + " is rate limiting: " + message);
            default -> status >= 500 ? new UnavailableException(id() + " failed with " + status + ": " + message)
                    : new EngineException(id() + " answered " + status + ": " + message);
        };
    }

    private static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String errorMessage(HttpResponse<?> response) {
        try {
            Object body = response.body();
            byte[] bytes = body instanceof InputStream in ? in.readNBytes(8192) : new byte[0];
            if (body instanceof InputStream in) {
                in.close();
            }
            String text = new String(bytes, StandardCharsets.UTF_8);
            JsonNode json = WireFormat.JSON.readTree(text);
            return json.path("error").path("message").asText(json.path("error").asText(text));
        } catch (IOException | RuntimeException e) {
            return "HTTP " + response.statusCode();
        }
    }

    private static int firstInt(JsonNode m, String... pointers) {
        for (String p : pointers) {
            if (m.at(p).canConvertToInt()) {
                return m.at(p).asInt();
            }
        }
        return 0;
    }

    private static String firstText(JsonNode m, String... pointers) {
        for (String p : pointers) {
            if (m.at(p).isTextual()) {
                return m.at(p).asText();
            }
        }
        return null;
    }

    @Override
    public void close() {
        // the shared transport outlives providers
    }
}

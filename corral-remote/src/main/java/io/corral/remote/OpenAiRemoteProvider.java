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
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A remote engine that speaks the OpenAI wire protocol; the {@link Preset} says which kind. All remote
 * providers share one pooled {@link Transport} per scheme (HTTP/1.1 for plain http hosts; TLS with HTTP/2
 * where the server offers it for https). Models come from the host's {@code /v1/models} ({@link #discover()}).
 * Being {@link OpenAiWire}, it tells a gateway that forwards OpenAI requests untouched where its host is.
 */
public final class OpenAiRemoteProvider implements InferenceProvider, OpenAiWire {

    private static final Set<Capability> CAPABILITIES =
            EnumSet.of(Capability.CHAT, Capability.COMPLETION, Capability.JSON_SCHEMA, Capability.TOOLS,
                    Capability.EMBEDDINGS, Capability.VISION);

    private final RemoteConfig config;
    private final Transport transport;
    private final Map<String, URI> uris = new java.util.concurrent.ConcurrentHashMap<>();
    private final Endpoint endpoint;
    private volatile List<ModelInfo> models = List.of();

    public OpenAiRemoteProvider(RemoteConfig config) {
        this.config = config;
        this.transport = Transport.of(config.baseUrl());
        this.endpoint = new Endpoint(URI.create(config.baseUrl()),
                config.apiKey() != null && !config.apiKey().isBlank() ? "Bearer " + config.apiKey() : null,
                config.connectTimeout(), config.firstTokenTimeout(), config.idleTimeout(), config.caFile());
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

    /**
     * Reads the host's {@code /v1/models} and remembers them, each with its type and capabilities as the host
     * reports them ({@link HostModels}); a dead host fails fast (connect timeout).
     */
    public List<ModelInfo> discover() {
        Duration timeout = config.connectTimeout().plus(config.connectTimeout());
        JsonNode body = getJson("/models", timeout);
        List<JsonNode> entries = new ArrayList<>();
        body.path("data").forEach(m -> {
            if (!HostModels.id(m).isEmpty()) {
                entries.add(m);
            }
        });
        Map<String, HostModels.Kind> kinds = HostModels.kinds(config.preset(), entries, new HostModels.Native() {
            public JsonNode get(String path) {
                return json(send("GET", root(path), null, timeout));
            }

            public JsonNode post(String path, ObjectNode json) {
                return json(send("POST", root(path), WireFormat.bytes(json), timeout));
            }
        });
        List<ModelInfo> found = new ArrayList<>();
        for (JsonNode m : entries) {
            String id = HostModels.id(m);
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
            HostModels.Kind kind = kinds.get(id);
            found.add(new ModelInfo(id, config.id(), kind.type(), context, kind.dimension(), kind.capabilities(), meta));
        }
        models = List.copyOf(found);
        return models;
    }

    /** A path of the host's own API, beside its OpenAI base ({@code http://h:11434/v1} → {@code http://h:11434/api/show}). */
    private URI root(String path) {
        return URI.create(config.baseUrl().replaceAll("/v1/?$", "") + path);
    }

    private JsonNode json(Transport.Response response) {
        try (InputStream in = response.body()) {
            return WireFormat.JSON.readTree(in);
        } catch (IOException e) {
            throw new UnavailableException("upstream " + id() + " sent unreadable JSON: " + e.getMessage(), e);
        }
    }

    /** A cheap request that says whether the host is up; returns the latency or throws. */
    public Duration probe() {
        long t0 = System.nanoTime();
        URI uri = URI.create(config.baseUrl() + config.preset().healthPath).normalize();
        try (InputStream in = send("GET", uri, null, config.connectTimeout().plus(config.connectTimeout())).body()) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UnavailableException("connection to " + id() + " failed: " + describe(e), e);
        }
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
        JsonNode json;
        try (InputStream in = post(path, body).body()) {
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
        if (request.dimensions() != null) {
            body.put("dimensions", request.dimensions()); // only when asked: hosts that cannot refuse it
        }
        try (InputStream in = post("/embeddings", body).body()) {
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
        return new RemoteStream(post(path, body).body(), model, id(), completion, start, config.idleTimeout());
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    private Transport.Response post(String path, ObjectNode body) {
        return send("POST", uri(path), WireFormat.bytes(body), config.firstTokenTimeout());
    }

    private URI uri(String path) {
        return uris.computeIfAbsent(path, p -> URI.create(config.baseUrl() + p));
    }

    private JsonNode getJson(String path, Duration timeout) {
        return json(send("GET", URI.create(config.baseUrl() + path), null, timeout));
    }

    /** Sends, mapping transport failures and error statuses to Corral's typed errors. */
    private Transport.Response send(String method, URI uri, byte[] body, Duration timeout) {
        Transport.Response response;
        try {
            response = transport.send(new Transport.Request(method, uri, endpoint.authorization(), body,
                    config.connectTimeout(), timeout, config.idleTimeout(), null, config.caFile()));
        } catch (IOException e) {
            throw unreachable(e, timeout);
        }
        if (response.status() / 100 == 2) {
            return response;
        }
        throw refused(response.status(), errorBody(response));
    }

    @Override
    public RuntimeException unreachable(IOException e, Duration timeout) {
        return switch (e) {
            case ConnectException c -> new UnavailableException("cannot connect to " + id() + " (" + config.baseUrl() + "): " + describe(c), c);
            case SocketTimeoutException t -> new InferenceTimeoutException("no answer from " + id() + " within "
                    + timeout.toMillis() / 1000.0 + " s", t);
            default -> new UnavailableException("connection to " + id() + " failed: " + describe(e), e);
        };
    }

    @Override
    public RuntimeException refused(int status, String body) {
        String message = errorText(body, status);
        return switch (status) {
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

    /** The error text of a host's answer: its OpenAI {@code error.message}, or just the status. */
    private static String errorText(String body, int status) {
        try {
            JsonNode json = WireFormat.JSON.readTree(body);
            return json.path("error").path("message").asText(json.path("error").asText(body));
        } catch (IOException | RuntimeException e) {
            return "HTTP " + status;
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String errorBody(Transport.Response response) {
        try (InputStream in = response.body()) {
            return new String(in.readNBytes(8192), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
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

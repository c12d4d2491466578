package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatMessage;
import io.corral.api.InvalidRequestException;
import io.corral.api.UnavailableException;
import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.SafetyProvider;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code safety: remote::moderation}: an OpenAI-compatible {@code /v1/moderations} endpoint as a shield, over the one
 * HTTP client. A shield's {@code provider_shield_id} names the endpoint's model (default: the config's). The last
 * message is sent; a flagged result is a violation naming the categories the endpoint flagged. A check that cannot be
 * made is blocked (fail closed) unless {@code on_error: allow}; a moderations request through it reports the failure.
 */
public final class ModerationShield implements SafetyProvider {

    public static final String TYPE = "remote::moderation";

    /**
     * @param url     the endpoint's base URL, e.g. {@code https://api.openai.com/v1} (required)
     * @param apiKey  sent as a bearer token, or null
     * @param model   the moderation model (default {@code omni-moderation-latest})
     * @param onError {@code block} (default) or {@code allow}
     * @param timeout seconds to wait for an answer (default 30)
     */
    public record Config(String url, String apiKey, String model, String onError, Integer timeout) {
        public Config {
            if (url == null || url.isBlank() || !(url.startsWith("http://") || url.startsWith("https://"))) {
                throw new InvalidRequestException("url", "url must be the endpoint's http(s) base URL, e.g. https://api.openai.com/v1");
            }
            url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
            model = model == null || model.isBlank() ? "omni-moderation-latest" : model;
            onError = onError == null ? "block" : onError;
            if (!onError.equals("block") && !onError.equals("allow")) {
                throw new InvalidRequestException("on_error", "on_error must be block or allow");
            }
            timeout = timeout == null ? 30 : timeout;
            if (timeout < 1) {
                throw new InvalidRequestException("timeout", "timeout must be at least 1 second");
            }
        }
    }

    /** Makes it from the distribution config. */
    public static final class Factory extends ProviderFactory.Base<Config, SafetyProvider> {
        public Factory() {
            super(Api.SAFETY, TYPE, Config.class);
        }

        @Override
        public SafetyProvider create(String id, String type, Config config, Context context) {
            return new ModerationShield(id, config);
        }
    }

    private static final System.Logger LOG = System.getLogger("corral.safety");

    private final String id;
    private final Config config;
    private final URI uri;
    private final Transport transport;

    public ModerationShield(String id, Config config) {
        this.id = id;
        this.config = config;
        this.uri = URI.create(config.url() + "/moderations");
        this.transport = Transport.of(config.url());
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Optional<Violation> run(Shield shield, List<ChatMessage> messages, Map<String, Object> params) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must not be empty");
        }
        Moderation m;
        try {
            m = ask(shield, List.of(messages.getLast().text())).getFirst();
        } catch (UnavailableException e) {
            LOG.log(System.Logger.Level.WARNING, "shield " + shield.id() + ": " + e.getMessage()
                    + (config.onError().equals("block") ? "; blocked" : "; let through"));
            return config.onError().equals("allow") ? Optional.empty() : Optional.of(Violation.unchecked(e.getMessage(), null));
        }
        return Optional.ofNullable(m.violation());
    }

    @Override
    public List<Moderation> moderate(Shield shield, List<String> inputs) {
        return ask(shield, inputs);
    }

    /** One request for all {@code inputs}; the endpoint's results, in order. */
    private List<Moderation> ask(Shield shield, List<String> inputs) {
        ObjectNode body = WireFormat.JSON.createObjectNode();
        body.put("model", shield.providerShieldId() == null ? config.model() : shield.providerShieldId());
        ArrayNode input = body.putArray("input");
        inputs.forEach(input::add);
        JsonNode answer;
        Duration timeout = Duration.ofSeconds(config.timeout());
        try {
            Transport.Response r = transport.send(new Transport.Request("POST", uri,
                    config.apiKey() == null || config.apiKey().isBlank() ? null : "Bearer " + config.apiKey(),
                    WireFormat.bytes(body), Duration.ofSeconds(10), timeout, timeout));
            try (InputStream in = r.body()) {
                byte[] bytes = in.readAllBytes();
                if (r.status() / 100 != 2) {
                    throw new UnavailableException("the moderation endpoint " + config.url() + " answered " + r.status());
                }
                answer = WireFormat.JSON.readTree(bytes);
            }
        } catch (IOException e) {
            throw new UnavailableException("the moderation endpoint " + config.url() + " cannot be reached: " + e.getMessage(), e);
        }
        JsonNode results = answer.path("results");
        if (!results.isArray() || results.size() != inputs.size()) {
            throw new UnavailableException("the moderation endpoint " + config.url() + " gave " + results.size()
                    + " results for " + inputs.size() + " inputs");
        }
        List<Moderation> out = new ArrayList<>();
        for (JsonNode result : results) {
            Map<String, Boolean> categories = new LinkedHashMap<>();
            Map<String, Double> scores = new LinkedHashMap<>();
            OPENAI_CATEGORIES.forEach(c -> {
                categories.put(c, false);
                scores.put(c, 0.0);
            });
            result.path("categories").properties().forEach(e -> categories.put(e.getKey(), e.getValue().asBoolean()));
            result.path("category_scores").properties().forEach(e -> scores.put(e.getKey(), Math.max(0, Math.min(1, e.getValue().asDouble()))));
            categories.keySet().forEach(k -> scores.putIfAbsent(k, categories.get(k) ? 1.0 : 0.0));
            boolean flagged = result.path("flagged").asBoolean();
            Violation v = null;
            if (flagged) {
                List<String> found = categories.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
                Map<String, Object> metadata = new LinkedHashMap<>();
                metadata.put("categories", found);
                metadata.put("model", answer.path("model").asText(body.path("model").asText()));
                Map<String, Double> foundScores = new LinkedHashMap<>();
                found.forEach(c -> foundScores.put(c, scores.get(c)));
                metadata.put("category_scores", foundScores);
                v = new Violation(Violation.Level.ERROR, "I can't help with that: the content was flagged"
                        + (found.isEmpty() ? "" : " for " + String.join(", ", found)) + ".", found, metadata);
            }
            out.add(new Moderation(flagged, categories, scores, v));
        }
        return out;
    }

    @Override
    public void close() {
    }
}

package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.spi.Capability;
import io.corral.spi.ModelType;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What each model of a host is (its type, capabilities and embedding size), from what the host reports:
 * {@code model_type} and {@code capabilities} in its {@code /v1/models} (Llama Stack, Corral), Ollama's
 * {@code /api/show} capabilities, LM Studio's {@code /api/v0/models} types, llama.cpp server's {@code /props}
 * modalities. Where a host says nothing (vLLM, MLX, clouds), an id that names an embedding family
 * ({@code text-embedding-3-small}, {@code nomic-embed-text}, {@code bge-m3}) is an embedding model, any
 * other a text model. A host whose own API fails is read the same way, never failing discovery.
 */
final class HostModels {

    /** What one model is. */
    record Kind(ModelType type, Set<Capability> capabilities, int dimension) {
        static Kind of(ModelType type) {
            return new Kind(type, type.capabilities(), 0);
        }
    }

    /** The host's own API, below its OpenAI base ({@code /api/show} rather than {@code /v1/...}). */
    interface Native {
        JsonNode get(String path);

        JsonNode post(String path, ObjectNode body);
    }

    private static final Pattern EMBEDDING_ID = Pattern.compile(
            "(^|[/_:.-])(text-)?embed(ding)?s?([/_:.-]|\\d|$)|embed-|-embed|(^|[/_-])(bge|gte|e5|minilm|all-minilm|mxbai-embed|snowflake-arctic-embed)([/_:.-]|$)");
    private static final System.Logger LOG = System.getLogger("corral.remote");

    private HostModels() {
    }

    /** The kind of each entry of {@code /v1/models} (by id), asking the host's own API where it has one. */
    static Map<String, Kind> kinds(Preset preset, List<JsonNode> entries, Native host) {
        Map<String, Kind> kinds = new HashMap<>();
        for (JsonNode m : entries) {
            kinds.put(id(m), reported(m));
        }
        try {
            switch (preset) {
                case OLLAMA -> entries.forEach(m -> kinds.put(id(m), ollama(host.post("/api/show",
                        WireFormat.JSON.createObjectNode().put("model", id(m))), kinds.get(id(m)))));
                case LMSTUDIO -> {
                    for (JsonNode m : host.get("/api/v0/models").path("data")) {
                        if (kinds.containsKey(m.path("id").asText()) && m.hasNonNull("type")) {
                            kinds.put(m.path("id").asText(), lmStudio(m.path("type").asText()));
                        }
                    }
                }
                case LLAMACPP -> {
                    if (host.get("/props").path("modalities").path("vision").asBoolean(false)) {
                        kinds.replaceAll((id, k) -> k.type() == ModelType.LLM ? withVision(k) : k);
                    }
                }
                default -> { }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> preset.vendor + " did not say what its models are: " + e.getMessage());
        }
        return kinds;
    }

    static String id(JsonNode m) {
        return m.path("id").asText(m.path("identifier").asText(""));
    }

    /** What {@code /v1/models} itself says: Llama Stack's {@code model_type}, Corral's {@code capabilities}; else the id. */
    static Kind reported(JsonNode m) {
        ModelType type = m.hasNonNull("model_type") ? parse(m.get("model_type").asText()) : byId(id(m));
        Set<Capability> caps = type.capabilities();
        if (m.path("capabilities").isArray() && !m.path("capabilities").isEmpty()) {
            caps = EnumSet.noneOf(Capability.class);
            for (JsonNode c : m.get("capabilities")) {
                try {
                    caps.add(Capability.valueOf(c.asText().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException unknown) {
                    // a capability this version does not know
                }
            }
        }
        int dimension = m.at("/metadata/embedding_dimension").asInt(0);
        return new Kind(type, caps, dimension);
    }

    private static ModelType parse(String type) {
        try {
            return ModelType.parse(type);
        } catch (RuntimeException e) {
            return ModelType.LLM;
        }
    }

    static ModelType byId(String id) {
        return EMBEDDING_ID.matcher(id.toLowerCase(Locale.ROOT)).find() ? ModelType.EMBEDDING : ModelType.LLM;
    }

    /** Ollama's {@code capabilities}: completion, tools, vision, embedding, insert, thinking. */
    static Kind ollama(JsonNode show, Kind fallback) {
        JsonNode list = show.path("capabilities");
        if (!list.isArray() || list.isEmpty()) {
            return fallback;
        }
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        boolean completion = false;
        for (JsonNode c : list) {
            switch (c.asText()) {
                case "completion" -> {
                    completion = true;
                    caps.addAll(ModelType.LLM.capabilities());
                    caps.remove(Capability.TOOLS); // only when "tools" says so
                }
                case "tools" -> caps.add(Capability.TOOLS);
                case "vision" -> caps.add(Capability.VISION);
                case "embedding" -> caps.add(Capability.EMBEDDINGS);
                default -> { }
            }
        }
        ModelType type = completion || !caps.contains(Capability.EMBEDDINGS) ? ModelType.LLM : ModelType.EMBEDDING;
        int dimension = 0;
        for (var e : show.path("model_info").properties()) {
            if (e.getKey().endsWith(".embedding_length") && type == ModelType.EMBEDDING) {
                dimension = e.getValue().asInt();
            }
        }
        return new Kind(type, caps, dimension);
    }

    /** LM Studio's {@code type}: llm, vlm (sees images) or embeddings. */
    static Kind lmStudio(String type) {
        return switch (type) {
            case "embeddings", "embedding" -> Kind.of(ModelType.EMBEDDING);
            case "vlm" -> withVision(Kind.of(ModelType.LLM));
            default -> Kind.of(ModelType.LLM);
        };
    }

    private static Kind withVision(Kind k) {
        Set<Capability> caps = EnumSet.copyOf(k.capabilities());
        caps.add(Capability.VISION);
        return new Kind(k.type(), caps, k.dimension());
    }
}

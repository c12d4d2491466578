package io.corral.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.NotFoundException;
import io.corral.server.http.Json;
import io.corral.spi.KeyValueStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's stored chat completions: a completion asked for with {@code store: true} is kept, with the messages it answered
 * ({@code input_messages}, as Llama Stack lists them) and its {@code metadata}, in the state store under its API key's
 * tenant, to be listed, read, given new metadata and deleted. Only the key that made one sees it.
 */
final class StoredCompletions {

    private static final String PREFIX = "chat/";

    private final KeyValueStore kv;

    StoredCompletions(KeyValueStore kv) {
        this.kv = kv;
    }

    private static String key(String tenant, String id) {
        return PREFIX + (tenant == null ? "-" : tenant) + "/" + id;
    }

    /** Keeps {@code completion} (its {@code id} the key) with the request's messages and metadata. */
    void put(String tenant, ObjectNode completion, JsonNode messages, Map<String, String> metadata) {
        ObjectNode kept = completion.deepCopy();
        kept.set("metadata", Json.MAPPER.valueToTree(metadata));
        kept.set("input_messages", messages == null ? Json.MAPPER.createArrayNode() : messages.deepCopy());
        kv.set(key(tenant, kept.path("id").asText()), kept.toString());
    }

    ObjectNode get(String tenant, String id) {
        return kv.get(key(tenant, id)).map(json -> Json.stored(json, "a stored chat completion"))
                .orElseThrow(() -> new NotFoundException("completion_id", "no stored chat completion " + id));
    }

    /** The messages a stored completion answered, in order, each with an id ({@code <completion id>-<index>}), as OpenAI lists them. */
    List<ObjectNode> messages(String tenant, String id) {
        List<ObjectNode> out = new ArrayList<>();
        JsonNode messages = get(tenant, id).path("input_messages");
        for (int i = 0; i < messages.size(); i++) {
            ObjectNode m = Json.MAPPER.createObjectNode().put("id", id + "-" + i);
            if (messages.get(i).isObject()) {
                m.setAll((ObjectNode) messages.get(i));
            }
            out.add(m);
        }
        return out;
    }

    /** The tenant's completions, newest first; of one model when {@code model} is not null. */
    List<ObjectNode> list(String tenant, String model) {
        List<ObjectNode> out = new ArrayList<>();
        for (var e : kv.prefix(PREFIX + (tenant == null ? "-" : tenant) + "/")) {
            ObjectNode o = Json.stored(e.getValue(), "a stored chat completion");
            if (model == null || model.equals(o.path("model").asText())) {
                out.add(o);
            }
        }
        out.sort(Comparator.comparingLong((ObjectNode o) -> o.path("created").asLong())
                .thenComparing(o -> o.path("id").asText()).reversed());
        return out;
    }

    /** Replaces a stored completion's metadata; the completion as it now is. */
    ObjectNode update(String tenant, String id, Map<String, String> metadata) {
        ObjectNode o = get(tenant, id);
        o.set("metadata", Json.MAPPER.valueToTree(metadata));
        kv.set(key(tenant, id), o.toString());
        return o;
    }

    void delete(String tenant, String id) {
        if (!kv.delete(key(tenant, id))) {
            throw new NotFoundException("completion_id", "no stored chat completion " + id);
        }
    }
}

package io.corral.server.vectorstores;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Fields;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider.Mode;
import io.corral.spi.VectorStores;
import io.corral.spi.VectorStores.EmbeddedChunk;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Llama Stack's {@code vector-io} routes over {@link VectorStores}: chunks put into a vector store as they are
 * ({@code POST /v1/vector-io/insert}) and the chunks that best match a query ({@code POST /v1/vector-io/query}), as
 * the 0.7 clients send them ({@code vector_store_id}, chunks with their embeddings) and as 0.2.x clients did
 * ({@code vector_db_id}, chunks without an embedding or an id: the store's model embeds them, a stable id is made from
 * the document id and the text, so the same chunk inserted again replaces itself); and 0.2.x's {@code /v1/vector-dbs}, which registers, lists, reads
 * and unregisters vector stores under the ids the client chooses.
 */
public final class VectorIoApi implements Routes.Api {

    private final VectorStores stores;

    public VectorIoApi(VectorStores stores) {
        this.stores = stores;
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/vector-io/insert", this::insert).post("/v1/vector-io/query", this::query)
                .post("/v1/vector-dbs", this::register)
                .get("/v1/vector-dbs", (req, res) -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    ArrayNode data = o.putArray("data");
                    stores.list(req.tenant()).forEach(s -> data.add(vectorDb(s)));
                    res.json(200, o);
                })
                .get("/v1/vector-dbs/{vector_db_id}", (req, res) -> res.json(200, vectorDb(stores.get(req.tenant(), req.param("vector_db_id")))))
                .delete("/v1/vector-dbs/{vector_db_id}", (req, res) -> {
                    stores.delete(req.tenant(), req.param("vector_db_id"));
                    res.json(200, null); // Llama Stack answers nothing: JSON null
                });
    }

    /** Llama Stack 0.2.x's register: a vector store under the client's id, with the embedding model (and dimension) it names. */
    private void register(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String id = Fields.text(body, "vector_db_id", "vector_db_id");
        String model = Fields.text(body, "embedding_model", "embedding_model");
        if (id == null || id.isBlank()) {
            throw ApiException.badRequest("vector_db_id", "vector_db_id is required");
        }
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("embedding_model", "embedding_model is required");
        }
        Long dimension = Fields.whole(body, "embedding_dimension", "embedding_dimension");
        if (dimension != null && (dimension < 1 || dimension > 65_536)) {
            throw ApiException.badRequest("embedding_dimension", "embedding_dimension must be from 1 to 65536");
        }
        String name = Fields.text(body, "vector_db_name", "vector_db_name");
        Fields.text(body, "provider_vector_db_id", "provider_vector_db_id"); // the store's own id is the vector_db_id
        var store = stores.create(req.tenant(), new VectorStores.NewStore(id, name == null ? id : name, List.of(), null, Map.of(), null,
                model, dimension == null ? null : dimension.intValue(), Fields.text(body, "provider_id", "provider_id")));
        res.json(200, vectorDb(store));
    }

    /** A store as 0.2.x's VectorDB. */
    private static ObjectNode vectorDb(VectorStores.Store s) {
        return Json.MAPPER.createObjectNode().put("identifier", s.id()).put("provider_id", s.providerId())
                .put("provider_resource_id", s.id()).put("type", "vector_db").put("embedding_model", s.embeddingModel())
                .put("embedding_dimension", s.dimension()).put("vector_db_name", s.name());
    }

    private void insert(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String store = store(body);
        JsonNode chunks = body.get("chunks");
        if (chunks == null || !chunks.isArray() || chunks.isEmpty()) {
            throw ApiException.badRequest("chunks", "chunks is required: a list of chunks");
        }
        Fields.number(body, "ttl_seconds", "ttl_seconds"); // accepted as Llama Stack's own stores do: chunks are kept until deleted
        List<EmbeddedChunk> out = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            out.add(chunk(chunks.get(i), "chunks[" + i + "]"));
        }
        stores.insertChunks(req.tenant(), store, out);
        res.json(200, null); // Llama Stack answers nothing: JSON null
    }

    private static EmbeddedChunk chunk(JsonNode c, String at) {
        if (!c.isObject()) {
            throw ApiException.badRequest(at, at + " must be an object");
        }
        String content = text(c.get("content"), at + ".content");
        Map<String, Object> metadata = object(c, "metadata", at);
        Map<String, Object> chunkMetadata = object(c, "chunk_metadata", at);
        float[] embedding = null;
        JsonNode e = c.get("embedding");
        if (e != null && !e.isNull()) {
            if (!e.isArray() || e.isEmpty() || !e.valueStream().allMatch(JsonNode::isNumber)) {
                throw ApiException.badRequest(at + ".embedding", at + ".embedding must be a list of numbers");
            }
            embedding = new float[e.size()];
            for (int j = 0; j < embedding.length; j++) {
                embedding[j] = (float) e.get(j).asDouble();
            }
        }
        Long dimension = Fields.whole(c, "embedding_dimension", at + ".embedding_dimension");
        if (dimension != null && embedding != null && dimension != embedding.length) {
            throw ApiException.badRequest(at + ".embedding_dimension", at + ".embedding_dimension is " + dimension
                    + " but the embedding has " + embedding.length + " numbers");
        }
        String id = Fields.text(c, "chunk_id", at + ".chunk_id");
        if (id == null && chunkMetadata.get("chunk_id") instanceof String given) {
            id = given;
        }
        if (id == null) { // a 0.2.x client's chunk: its id made from its document and text, so inserting it again replaces it
            Object doc = metadata.containsKey("document_id") ? metadata.get("document_id") : chunkMetadata.get("document_id");
            id = madeId(doc == null ? "" : doc.toString(), content);
        }
        return new EmbeddedChunk(id, content, metadata, chunkMetadata, embedding,
                Fields.text(c, "embedding_model", at + ".embedding_model"));
    }

    /** A stable id for a chunk given none: a UUID's shape over the SHA-256 of its document id and text. */
    static String madeId(String documentId, String content) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((documentId + ":" + content).getBytes(StandardCharsets.UTF_8));
            String x = HexFormat.of().formatHex(h, 0, 16);
            return x.substring(0, 8) + "-" + x.substring(8, 12) + "-" + x.substring(12, 16) + "-" + x.substring(16, 20) + "-" + x.substring(20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void query(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String store = store(body);
        String text = text(body.get("query"), "query");
        JsonNode params = body.get("params");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw ApiException.badRequest("params", "params must be an object");
        }
        params = params == null || params.isNull() ? Json.MAPPER.createObjectNode() : params;
        Long max = Fields.whole(params, "max_chunks", "params.max_chunks");
        if (max != null && (max < 1 || max > 1000)) {
            throw ApiException.badRequest("params.max_chunks", "params.max_chunks must be from 1 to 1000");
        }
        Mode m = VectorStoresApi.mode(params, "mode", "params.mode", Mode.VECTOR); // Llama Stack's default: vector
        double threshold = Objects.requireNonNullElse(Fields.number(params, "score_threshold", "params.score_threshold"), 0.0);
        var found = stores.queryChunks(req.tenant(), store, new VectorStores.ChunkQuery(text, max == null ? 3 : max.intValue(), m,
                threshold, ranker(params)));
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode chunks = o.putArray("chunks");
        ArrayNode scores = o.putArray("scores");
        for (var hit : found) {
            EmbeddedChunk c = hit.chunk();
            ObjectNode each = chunks.addObject().put("chunk_id", c.id()).put("stored_chunk_id", c.id()).put("content", c.content());
            each.set("metadata", Json.MAPPER.valueToTree(c.metadata()));
            each.set("chunk_metadata", Json.MAPPER.valueToTree(c.chunkMetadata()));
            ArrayNode v = each.putArray("embedding");
            float[] embedding = c.embedding() == null ? new float[0] : c.embedding();
            for (float x : embedding) {
                v.add(x);
            }
            each.put("embedding_model", c.embeddingModel()).put("embedding_dimension", embedding.length);
            scores.add(hit.score());
        }
        res.json(200, o);
    }

    /**
     * How hybrid results are fused: {@code reranker_type} with {@code reranker_params} as Llama Stack's own routes pass
     * them, or a {@code ranker} as its 0.2.x clients did (an object with a type, or a name beside its parameters).
     */
    private static Ranker ranker(JsonNode params) {
        String type = Fields.text(params, "reranker_type", "params.reranker_type");
        if (type != null) {
            JsonNode p = params.path("reranker_params");
            return switch (type.toLowerCase(Locale.ROOT)) {
                case "rrf" -> Ranker.rrf(Objects.requireNonNullElse(Fields.number(p, "impact_factor", "params.reranker_params.impact_factor"),
                        Ranker.DEFAULT_IMPACT_FACTOR));
                case "weighted" -> Ranker.weighted(Objects.requireNonNullElse(Fields.number(p, "alpha", "params.reranker_params.alpha"), 0.5));
                default -> throw ApiException.badRequest("params.reranker_type", "params.reranker_type must be rrf or weighted, was '" + type + "'");
            };
        }
        return params.hasNonNull("ranker") ? VectorStoresApi.ranker(params) : Ranker.DEFAULT;
    }

    private static String store(JsonNode body) {
        String id = Fields.text(body, "vector_store_id", "vector_store_id");
        id = id != null ? id : Fields.text(body, "vector_db_id", "vector_db_id"); // Llama Stack 0.2.x's name
        if (id == null || id.isBlank()) {
            throw ApiException.badRequest("vector_store_id", "vector_store_id is required");
        }
        return id;
    }

    /**
     * Llama Stack's interleaved content as text: a string, a text item, or a list of them (joined by spaces); what vector
     * stores keep and search (the RAG tool's documents too).
     */
    public static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            throw ApiException.badRequest(param, param + " is required");
        }
        if (content.isTextual()) {
            return content.asText();
        }
        List<String> parts = new ArrayList<>();
        for (JsonNode item : content.isArray() ? content : List.of(content)) {
            if (item.isTextual()) {
                parts.add(item.asText());
            } else if (item.isObject() && item.path("text").isTextual() && "text".equals(item.path("type").asText("text"))) {
                parts.add(item.get("text").asText());
            } else if (item.isObject() && "image".equals(item.path("type").asText())) {
                throw ApiException.badRequest(param, param + ": images cannot be stored or searched in a vector store, only text");
            } else {
                throw ApiException.badRequest(param, param + " must be text: a string, a {\"type\": \"text\", \"text\": ...} item, or a list of them");
            }
        }
        return String.join(" ", parts);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(JsonNode c, String key, String at) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw ApiException.badRequest(at + "." + key, at + "." + key + " must be an object");
        }
        return Json.MAPPER.convertValue(v, Map.class);
    }
}

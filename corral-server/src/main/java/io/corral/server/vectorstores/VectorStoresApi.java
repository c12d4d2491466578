package io.corral.server.vectorstores;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Fields;
import io.corral.server.http.Json;
import io.corral.server.http.Page;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.Filter;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider.Mode;
import io.corral.spi.VectorStores;
import io.corral.spi.VectorStores.Chunking;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's vector stores API, with Llama Stack's extensions, over {@link VectorStores}: stores (create with
 * {@code embedding_model}, {@code embedding_dimension} and {@code provider_id} as Llama Stack takes them; list,
 * retrieve, update, delete), their files (add, list by status, retrieve, update attributes, remove, content),
 * file batches, and search ({@code search_mode} vector, keyword or hybrid, the default; {@code ranking_options}
 * with {@code ranker} as a string with {@code impact_factor} or {@code alpha} beside it, or as an object).
 * A caller sees only its API key's stores.
 */
public final class VectorStoresApi implements Routes.Api {

    private static final String BASE = "/v1/vector_stores";
    private static final Set<String> STATUSES = Set.of("in_progress", "completed", "failed", "cancelled");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    private final VectorStores stores;

    public VectorStoresApi(VectorStores stores) {
        this.stores = stores;
    }

    @Override
    public void routes(Routes r) {
        String store = BASE + "/{vector_store_id}";
        r.post(BASE, this::create)
                .get(BASE, (req, res) -> res.json(200, Page.of(req, stores.list(req.tenant()), VectorStores.Store::id,
                        VectorStoresApi::json, 20, 100)))
                .get(store, (req, res) -> res.json(200, json(stores.get(req.tenant(), req.param("vector_store_id")))))
                .post(store, this::update)
                .delete(store, (req, res) -> {
                    stores.delete(req.tenant(), req.param("vector_store_id"));
                    res.json(200, deleted(req.param("vector_store_id"), "vector_store.deleted"));
                })
                .post(store + "/search", this::search)
                .post(store + "/files", this::addFile)
                .get(store + "/files", (req, res) -> res.json(200, Page.of(req,
                        stores.files(req.tenant(), req.param("vector_store_id"), status(req)), VectorStores.StoreFile::id,
                        VectorStoresApi::json, 20, 100)))
                .get(store + "/files/{file_id}", (req, res) -> res.json(200,
                        json(stores.file(req.tenant(), req.param("vector_store_id"), req.param("file_id")))))
                .post(store + "/files/{file_id}", this::updateFile)
                .delete(store + "/files/{file_id}", (req, res) -> {
                    stores.removeFile(req.tenant(), req.param("vector_store_id"), req.param("file_id"));
                    res.json(200, deleted(req.param("file_id"), "vector_store.file.deleted"));
                })
                .get(store + "/files/{file_id}/content", this::content)
                .post(store + "/file_batches", this::createBatch)
                .get(store + "/file_batches/{batch_id}", (req, res) -> res.json(200,
                        json(stores.batch(req.tenant(), req.param("vector_store_id"), req.param("batch_id")))))
                .post(store + "/file_batches/{batch_id}/cancel", (req, res) -> res.json(200,
                        json(stores.cancelBatch(req.tenant(), req.param("vector_store_id"), req.param("batch_id")))))
                .get(store + "/file_batches/{batch_id}/files", (req, res) -> res.json(200, Page.of(req,
                        stores.batchFiles(req.tenant(), req.param("vector_store_id"), req.param("batch_id"), status(req)),
                        VectorStores.StoreFile::id, VectorStoresApi::json, 20, 100)));
    }

    // ---- requests

    private void create(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        Integer dimension = body.hasNonNull("embedding_dimension") ? whole(body, "embedding_dimension") : null;
        // "id" is Corral's own: a store named by its caller (a knowledge folder's, `corral ingest --store`)
        var store = stores.create(req.tenant(), new VectorStores.NewStore(text(body, "id"), text(body, "name"), Fields.strings(body, "file_ids", "file_ids"),
                chunking(body.get("chunking_strategy")), map(body, "metadata"), expiresAfter(body.get("expires_after")),
                text(body, "embedding_model"), dimension, text(body, "provider_id")));
        res.json(200, json(store));
    }

    private void update(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        Integer days = null;
        if (body.has("expires_after")) {
            days = body.get("expires_after").isNull() ? Integer.valueOf(0) : expiresAfter(body.get("expires_after"));
        }
        res.json(200, json(stores.update(req.tenant(), req.param("vector_store_id"), text(body, "name"), map(body, "metadata"), days)));
    }

    private void addFile(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String fileId = text(body, "file_id");
        if (fileId == null || fileId.isBlank()) {
            throw ApiException.badRequest("file_id", "file_id is required");
        }
        res.json(200, json(stores.addFile(req.tenant(), req.param("vector_store_id"), fileId, map(body, "attributes"),
                chunking(body.get("chunking_strategy")))));
    }

    private void updateFile(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        if (!body.has("attributes")) {
            throw ApiException.badRequest("attributes", "attributes is required");
        }
        res.json(200, json(stores.updateFile(req.tenant(), req.param("vector_store_id"), req.param("file_id"), map(body, "attributes"))));
    }

    private void createBatch(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        List<String> ids = Fields.strings(body, "file_ids", "file_ids");
        if (ids == null) {
            throw ApiException.badRequest("file_ids", "file_ids is required");
        }
        res.json(200, json(stores.createBatch(req.tenant(), req.param("vector_store_id"), ids, map(body, "attributes"),
                chunking(body.get("chunking_strategy")))));
    }

    private void content(Request req, Response res) {
        var c = stores.content(req.tenant(), req.param("vector_store_id"), req.param("file_id"));
        ObjectNode o = Json.MAPPER.createObjectNode();
        // OpenAI's page of content, and the fields Llama Stack's older clients read
        o.put("object", "vector_store.file_content.page");
        ArrayNode data = o.putArray("data");
        c.chunks().forEach(t -> data.addObject().put("type", "text").put("text", t));
        o.put("has_more", false);
        o.putNull("next_page");
        o.put("file_id", c.fileId());
        o.put("filename", c.filename());
        o.set("attributes", Json.MAPPER.valueToTree(c.attributes()));
        o.set("content", data.deepCopy());
        res.json(200, o);
    }

    private void search(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        JsonNode q = body.get("query");
        List<String> queries = new ArrayList<>();
        if (q != null && q.isTextual()) {
            queries.add(q.asText());
        } else if (q != null && q.isArray()) {
            for (JsonNode each : q) {
                if (!each.isTextual()) {
                    throw ApiException.badRequest("query", "query must be a string or a list of strings");
                }
                queries.add(each.asText());
            }
        } else {
            throw ApiException.badRequest("query", "query is required: a string or a list of strings");
        }
        if (body.has("rewrite_query") && !body.get("rewrite_query").isBoolean() && !body.get("rewrite_query").isNull()) {
            throw ApiException.badRequest("rewrite_query", "rewrite_query must be a boolean");
        }
        int max = body.hasNonNull("max_num_results") ? whole(body, "max_num_results") : 10;
        Mode m = mode(body, "search_mode", "search_mode", Mode.HYBRID);
        JsonNode ranking = body.get("ranking_options");
        double threshold = 0;
        Ranker ranker = Ranker.DEFAULT;
        if (ranking != null && !ranking.isNull()) {
            if (!ranking.isObject()) {
                throw ApiException.badRequest("ranking_options", "ranking_options must be an object");
            }
            threshold = java.util.Objects.requireNonNullElse(Fields.number(ranking, "score_threshold", "score_threshold"), 0.0);
            ranker = ranker(ranking);
        }
        Filter filter = body.hasNonNull("filters") ? filter(body.get("filters"), "filters") : null;
        var results = stores.search(req.tenant(), req.param("vector_store_id"),
                new VectorStores.Search(queries, filter, max, m, ranker, threshold));
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "vector_store.search_results.page");
        ArrayNode sq = o.putArray("search_query");
        queries.forEach(sq::add);
        ArrayNode data = o.putArray("data");
        for (var r : results) {
            ObjectNode item = data.addObject().put("file_id", r.fileId()).put("filename", r.filename()).put("score", r.score());
            item.set("attributes", Json.MAPPER.valueToTree(r.attributes()));
            item.putArray("content").addObject().put("type", "text").put("text", r.text());
        }
        o.put("has_more", false);
        o.putNull("next_page");
        res.json(200, o);
    }

    /** {@code o.key}, a search mode (vector, keyword or hybrid, any case), or {@code fallback} when absent; a 400 naming {@code param} else. */
    public static Mode mode(JsonNode o, String key, String param, Mode fallback) {
        String mode = Fields.text(o, key, param);
        if (mode == null) {
            return fallback;
        }
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "vector" -> Mode.VECTOR;
            case "keyword" -> Mode.KEYWORD;
            case "hybrid" -> Mode.HYBRID;
            default -> throw ApiException.badRequest(param, param + " must be vector, keyword or hybrid, was '" + mode + "'");
        };
    }

    /** {@code ranker} as the 0.7 SDK sends it (a name, {@code impact_factor} or {@code alpha} beside it) or as an object. */
    static Ranker ranker(JsonNode ranking) {
        JsonNode r = ranking.get("ranker");
        JsonNode params = ranking;
        String kind;
        if (r == null || r.isNull()) {
            kind = ranking.has("alpha") ? "weighted" : "rrf";
        } else if (r.isTextual()) {
            kind = r.asText().toLowerCase(Locale.ROOT);
        } else if (r.isObject() && r.hasNonNull("type")) {
            kind = r.get("type").asText().toLowerCase(Locale.ROOT);
            params = r;
        } else {
            throw ApiException.badRequest("ranking_options", "ranking_options.ranker must be a name or an object with a type");
        }
        return switch (kind) {
            // OpenAI's names: its own default ranker; Corral's is reciprocal rank fusion
            case "rrf", "auto", "default", "default-2024-11-15", "none" ->
                    Ranker.rrf(java.util.Objects.requireNonNullElse(Fields.number(params, "impact_factor", "impact_factor"), Ranker.DEFAULT_IMPACT_FACTOR));
            case "weighted" -> Ranker.weighted(java.util.Objects.requireNonNullElse(Fields.number(params, "alpha", "alpha"), 0.5));
            default -> throw ApiException.badRequest("ranking_options", "ranker must be rrf or weighted, was '" + kind + "'");
        };
    }

    /** OpenAI's comparison and compound filters ({@link Filter#parse}). */
    static Filter filter(JsonNode f, String where) {
        return Filter.parse(Json.MAPPER.convertValue(f, Object.class), where);
    }

    static Chunking chunking(JsonNode c) {
        if (c == null || c.isNull()) {
            return null;
        }
        String type = c.path("type").asText("");
        return switch (type) {
            case "auto" -> Chunking.AUTO;
            case "static" -> {
                JsonNode s = c.get("static");
                if (s == null || !s.isObject()) {
                    throw ApiException.badRequest("chunking_strategy", "a static chunking_strategy needs 'static' with max_chunk_size_tokens and chunk_overlap_tokens");
                }
                yield Chunking.fixed(whole(s, "max_chunk_size_tokens"), whole(s, "chunk_overlap_tokens"));
            }
            default -> throw ApiException.badRequest("chunking_strategy", "chunking_strategy.type must be auto or static");
        };
    }

    private static Integer expiresAfter(JsonNode e) {
        if (e == null || e.isNull()) {
            return null;
        }
        if (!"last_active_at".equals(e.path("anchor").asText())) {
            throw ApiException.badRequest("expires_after", "expires_after.anchor must be last_active_at");
        }
        return whole(e, "days");
    }

    private static String status(Request req) {
        String s = req.query("filter");
        if (s == null || s.isBlank()) {
            return null;
        }
        if (!STATUSES.contains(s)) {
            throw ApiException.badRequest("filter", "filter must be one of " + new java.util.TreeSet<>(STATUSES));
        }
        return s;
    }

    private static String text(JsonNode body, String field) {
        return Fields.text(body, field, field);
    }

    private static int whole(JsonNode body, String field) {
        Long n = Fields.whole(body, field, field);
        if (n == null || n != (int) (long) n) {
            throw ApiException.badRequest(field, field + " must be a whole number");
        }
        return (int) (long) n;
    }

    private static Map<String, Object> map(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw ApiException.badRequest(field, field + " must be an object");
        }
        return Json.MAPPER.convertValue(n, MAP);
    }

    // ---- answers

    private static ObjectNode deleted(String id, String object) {
        return Json.MAPPER.createObjectNode().put("id", id).put("object", object).put("deleted", true);
    }

    private static ObjectNode counts(VectorStores.FileCounts c) {
        return Json.MAPPER.createObjectNode().put("in_progress", c.inProgress()).put("completed", c.completed())
                .put("failed", c.failed()).put("cancelled", c.cancelled()).put("total", c.total());
    }

    static ObjectNode json(VectorStores.Store s) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("id", s.id()).put("object", "vector_store")
                .put("created_at", s.createdAt()).put("name", s.name()).put("usage_bytes", s.usageBytes());
        o.set("file_counts", counts(s.fileCounts()));
        o.put("status", s.status());
        if (s.expiresAfterDays() == null) {
            o.putNull("expires_after");
        } else {
            o.putObject("expires_after").put("anchor", "last_active_at").put("days", s.expiresAfterDays());
        }
        o.put("expires_at", s.expiresAt());
        o.put("last_active_at", s.lastActiveAt());
        o.set("metadata", Json.MAPPER.valueToTree(s.metadata()));
        o.put("embedding_model", s.embeddingModel()).put("embedding_dimension", s.dimension()).put("provider_id", s.providerId());
        return o;
    }

    static ObjectNode json(VectorStores.StoreFile f) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("id", f.id()).put("object", "vector_store.file")
                .put("usage_bytes", f.usageBytes()).put("created_at", f.createdAt()).put("vector_store_id", f.storeId())
                .put("status", f.status());
        if (f.lastError() == null) {
            o.putNull("last_error");
        } else {
            o.putObject("last_error").put("code", f.lastError().code()).put("message", f.lastError().message());
        }
        ObjectNode c = o.putObject("chunking_strategy");
        if (f.chunking().auto()) {
            c.put("type", "auto");
        } else {
            c.put("type", "static").putObject("static").put("max_chunk_size_tokens", f.chunking().maxChunkTokens())
                    .put("chunk_overlap_tokens", f.chunking().overlapTokens());
        }
        o.set("attributes", Json.MAPPER.valueToTree(f.attributes()));
        return o;
    }

    static ObjectNode json(VectorStores.Batch b) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("id", b.id()).put("object", "vector_store.files_batch")
                .put("created_at", b.createdAt()).put("vector_store_id", b.storeId()).put("status", b.status());
        o.set("file_counts", counts(b.fileCounts()));
        return o;
    }
}

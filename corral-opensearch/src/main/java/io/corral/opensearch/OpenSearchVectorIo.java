package io.corral.opensearch;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.api.UnavailableException;
import io.corral.spi.Filter;
import io.corral.spi.VectorIoProvider;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The store that scales out ({@code vector_io: remote::opensearch}): one OpenSearch index per store, chunks'
 * text under BM25 with the same English analysis as the embedded store (possessives, lower case,
 * {@link VectorIoProvider#STOP_WORDS}, Porter's stemmer), vectors as {@code knn_vector} with
 * {@code engine: lucene} (HNSW, cosine; the k-NN plugin's zip ships no native engines), attributes indexed by
 * type for filters. Hybrid search runs both queries and fuses them here, as the embedded store does, so the
 * two rank alike. Writes are durable when OpenSearch acknowledges them (its translog); they are searchable at
 * the next query (the index is refreshed when something changed).
 */
public final class OpenSearchVectorIo implements VectorIoProvider {

    static final int FUSION_DEPTH = 100;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT = "content", VECTOR = "embedding", META = "meta";

    private final URI base;
    private final String authorization;
    private final String prefix;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> dimensions = new ConcurrentHashMap<>();

    /**
     * @param url      the cluster, e.g. {@code http://127.0.0.1:9200}
     * @param user     basic authentication, or null
     * @param prefix   what every index name starts with (several Corrals may share a cluster)
     */
    public OpenSearchVectorIo(String url, String user, String password, String prefix) {
        this.base = URI.create(url.endsWith("/") ? url : url + "/");
        this.authorization = user == null ? null : "Basic " + java.util.Base64.getEncoder()
                .encodeToString((user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
        this.prefix = prefix == null ? "corral-" : prefix;
    }

    /** An index name OpenSearch accepts for any store id: lower case, with the id's case kept in a hex suffix when it had any. */
    String index(String storeId) {
        String lower = storeId.toLowerCase(Locale.ROOT);
        return prefix + (lower.equals(storeId) ? storeId : lower + "-" + HexFormat.of().formatHex(storeId.getBytes(StandardCharsets.UTF_8)));
    }

    private record Answer(int status, JsonNode body) {
    }

    private Answer send(String method, String path, Object body, boolean ndjson) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            byte[] bytes = body == null ? null : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : JSON.writeValueAsBytes(body);
            b.method(method, bytes == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
            if (bytes != null) {
                b.header("Content-Type", ndjson ? "application/x-ndjson" : "application/json");
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
            return new Answer(r.statusCode(), json);
        } catch (IOException e) {
            throw new UnavailableException("OpenSearch at " + base + " cannot be reached: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.corral.api.CancelledException("interrupted");
        }
    }

    private JsonNode ok(String method, String path, Object body, String storeId) {
        Answer a = send(method, path, body, false);
        if (a.status() == 404 && storeId != null) {
            throw new NotFoundException("vector_store_id", "no vector store " + storeId);
        }
        if (a.status() / 100 != 2) {
            throw new EngineException("OpenSearch answered " + a.status() + " to " + method + " /" + path + ": " + a.body().path("error"));
        }
        return a.body();
    }

    @Override
    public void createStore(String storeId, int dimension) {
        if (dimension <= 0) {
            throw new InvalidRequestException("embedding_dimension", "the embedding dimension must be positive");
        }
        ObjectNode settings = JSON.createObjectNode();
        ObjectNode index = settings.putObject("settings").putObject("index");
        index.put("knn", true).put("number_of_shards", 1).put("number_of_replicas", 0);
        ObjectNode analysis = settings.with("settings").putObject("analysis");
        ObjectNode filters = analysis.putObject("filter");
        filters.putObject("corral_possessive").put("type", "stemmer").put("language", "possessive_english");
        filters.putObject("corral_stop").put("type", "stop").set("stopwords", JSON.valueToTree(STOP_WORDS));
        filters.putObject("corral_stem").put("type", "stemmer").put("language", "english");
        analysis.putObject("analyzer").putObject("corral_english").put("tokenizer", "standard")
                .set("filter", JSON.valueToTree(List.of("corral_possessive", "lowercase", "corral_stop", "corral_stem")));
        ObjectNode mappings = settings.putObject("mappings");
        ArrayNode templates = mappings.putArray("dynamic_templates");
        templates.addObject().putObject("strings").put("path_match", "s.*").putObject("mapping").put("type", "keyword");
        templates.addObject().putObject("numbers").put("path_match", "n.*").putObject("mapping").put("type", "double");
        templates.addObject().putObject("booleans").put("path_match", "b.*").putObject("mapping").put("type", "boolean");
        ObjectNode props = mappings.putObject("properties");
        props.putObject("id").put("type", "keyword");
        props.putObject(CONTENT).put("type", "text").put("analyzer", "corral_english");
        props.putObject(META).put("type", "keyword").put("index", false).put("doc_values", false);
        props.putObject(VECTOR).put("type", "knn_vector").put("dimension", dimension).putObject("method").put("name", "hnsw")
                .put("engine", "lucene").put("space_type", "cosinesimil");
        Answer a = send("PUT", index(storeId), settings, false);
        if (a.status() == 400 && a.body().at("/error/type").asText().equals("resource_already_exists_exception")) {
            return; // there already
        }
        if (a.status() / 100 != 2) {
            throw new EngineException("OpenSearch refused the index for " + storeId + ": " + a.body().path("error"));
        }
        dimensions.put(storeId, dimension);
    }

    private int dimension(String storeId) {
        return dimensions.computeIfAbsent(storeId, id -> {
            JsonNode m = ok("GET", index(id) + "/_mapping", null, id);
            return m.path(index(id)).at("/mappings/properties/" + VECTOR + "/dimension").asInt();
        });
    }

    @Override
    public void deleteStore(String storeId) {
        Answer a = send("DELETE", index(storeId), null, false);
        if (a.status() / 100 != 2 && a.status() != 404) {
            throw new EngineException("OpenSearch refused to delete " + storeId + ": " + a.body().path("error"));
        }
        dimensions.remove(storeId);
        dirty.remove(storeId);
    }

    @Override
    public void insert(String storeId, List<Chunk> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        int dimension = dimension(storeId);
        StringBuilder bulk = new StringBuilder();
        try {
            for (Chunk c : chunks) {
                ObjectNode doc = JSON.createObjectNode().put("id", c.id()).put(CONTENT, c.content())
                        .put(META, JSON.writeValueAsString(c.metadata()));
                if (c.embedding() != null) {
                    if (c.embedding().length != dimension) {
                        throw new InvalidRequestException("embedding", "chunk " + c.id() + " has " + c.embedding().length
                                + " dimensions; the store holds " + dimension);
                    }
                    doc.set(VECTOR, JSON.valueToTree(c.embedding()));
                }
                c.metadata().forEach((key, v) -> {
                    String k = escape(key);
                    switch (v) {
                        case String s -> doc.with("s").put(k, s);
                        case Boolean b -> doc.with("b").put(k, b);
                        case Number n -> doc.with("n").put(k, n.doubleValue());
                        case null, default -> {
                        }
                    }
                });
                bulk.append(JSON.writeValueAsString(Map.of("index", Map.of("_id", c.id())))).append('\n');
                bulk.append(JSON.writeValueAsString(doc)).append('\n');
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Answer a = send("POST", index(storeId) + "/_bulk", bulk.toString(), true);
        if (a.status() == 404) {
            throw new NotFoundException("vector_store_id", "no vector store " + storeId);
        }
        if (a.status() / 100 != 2 || a.body().path("errors").asBoolean()) {
            throw new EngineException("OpenSearch refused chunks of " + storeId + ": " + firstError(a.body()));
        }
        dirty.add(storeId);
    }

    private static String firstError(JsonNode bulk) {
        for (JsonNode item : bulk.path("items")) {
            JsonNode e = item.path("index").path("error");
            if (!e.isMissingNode()) {
                return e.toString();
            }
        }
        return bulk.path("error").toString();
    }

    @Override
    public void delete(String storeId, Filter filter) {
        refresh(storeId); // delete-by-query sees what a search sees
        ok("POST", index(storeId) + "/_delete_by_query?refresh=true&conflicts=proceed",
                Map.of("query", Map.of("bool", Map.of("filter", List.of(query(filter))))), storeId);
    }

    @Override
    public void flush(String storeId) {
        // acknowledged writes are in OpenSearch's translog already: durable; made searchable for any client
        refresh(storeId);
    }

    private void refresh(String storeId) {
        if (dirty.remove(storeId)) {
            ok("POST", index(storeId) + "/_refresh", null, storeId);
        }
    }

    @Override
    public long count(String storeId) {
        refresh(storeId);
        return ok("GET", index(storeId) + "/_count", null, storeId).path("count").asLong();
    }

    @Override
    public void scan(String storeId, int batch, java.util.function.Consumer<List<Chunk>> each) {
        refresh(storeId);
        Object after = null;
        while (true) {
            Map<String, Object> body = new java.util.HashMap<>(Map.of("size", batch, "sort", List.of(Map.of("id", "asc")),
                    "query", Map.of("match_all", Map.of())));
            if (after != null) {
                body.put("search_after", List.of(after));
            }
            List<JsonNode> hits = search(storeId, body);
            if (hits.isEmpty()) {
                return;
            }
            List<Chunk> out = new ArrayList<>(hits.size());
            for (JsonNode h : hits) {
                out.add(hit(h, 0).chunk());
            }
            each.accept(out);
            after = hits.getLast().path("sort").get(0).asText();
            if (hits.size() < batch) {
                return;
            }
        }
    }

    @Override
    public List<Hit> query(String storeId, Query q) {
        refresh(storeId);
        Object filter = q.filter() == null ? null : query(q.filter());
        // the embeddings come back only when asked for: a search's answer is otherwise mostly vectors
        Object source = q.vectors() ? true : Map.of("excludes", List.of(VECTOR));
        return switch (q.mode()) {
            case VECTOR -> hits(vector(storeId, q.embedding(), q.k(), filter, source));
            case KEYWORD -> hits(keyword(storeId, q.text(), q.k(), filter, source));
            case HYBRID -> {
                List<JsonNode> v = vector(storeId, q.embedding(), Math.max(q.k(), FUSION_DEPTH), filter, source);
                List<JsonNode> k = keyword(storeId, q.text(), Math.max(q.k(), FUSION_DEPTH), filter, source);
                Map<String, JsonNode> byId = new java.util.HashMap<>();
                v.forEach(h -> byId.put(h.path("_id").asText(), h));
                k.forEach(h -> byId.putIfAbsent(h.path("_id").asText(), h));
                List<Hit> out = new ArrayList<>();
                for (var s : VectorIoProvider.fuse(scored(v), scored(k), q.ranker(), q.k())) {
                    out.add(hit(byId.get(s.item()), s.score()));
                }
                yield out;
            }
        };
    }

    private static List<Scored<String>> scored(List<JsonNode> hits) {
        return hits.stream().map(h -> new Scored<>(h.path("_id").asText(), h.path("_score").asDouble())).toList();
    }

    private List<JsonNode> vector(String storeId, float[] embedding, int k, Object filter, Object source) {
        if (embedding.length != dimension(storeId)) {
            throw new InvalidRequestException("embedding", "the query has " + embedding.length + " dimensions; the store holds "
                    + dimension(storeId));
        }
        Map<String, Object> knn = new java.util.HashMap<>(Map.of("vector", embedding, "k", Math.max(k, FUSION_DEPTH)));
        if (filter != null) {
            knn.put("filter", filter);
        }
        return search(storeId, Map.of("size", k, "_source", source, "query", Map.of("knn", Map.of(VECTOR, knn))));
    }

    private List<JsonNode> keyword(String storeId, String text, int k, Object filter, Object source) {
        if (text == null || text.isBlank()) {
            return List.of();
        }
        Map<String, Object> bool = new java.util.HashMap<>(Map.of("must", Map.of("match", Map.of(CONTENT, text))));
        if (filter != null) {
            bool.put("filter", List.of(filter));
        }
        return search(storeId, Map.of("size", k, "_source", source, "query", Map.of("bool", bool)));
    }

    private List<JsonNode> search(String storeId, Object body) {
        List<JsonNode> out = new ArrayList<>();
        ok("POST", index(storeId) + "/_search", body, storeId).path("hits").path("hits").forEach(out::add);
        return out;
    }

    private static List<Hit> hits(List<JsonNode> hits) {
        return hits.stream().map(h -> hit(h, h.path("_score").asDouble())).toList();
    }

    private static Hit hit(JsonNode h, double score) {
        JsonNode src = h.path("_source");
        try {
            Map<String, Object> meta = JSON.readValue(src.path(META).asText("{}"), new TypeReference<Map<String, Object>>() { });
            JsonNode v = src.path(VECTOR);
            float[] vector = null;
            if (v.isArray()) {
                vector = new float[v.size()];
                for (int i = 0; i < vector.length; i++) {
                    vector[i] = (float) v.get(i).asDouble();
                }
            }
            return new Hit(new Chunk(src.path("id").asText(), src.path(CONTENT).asText(), meta, vector), score);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The OpenSearch query that matches what {@code f} accepts ({@link Filter#test}). */
    static Object query(Filter f) {
        return f.translate(FILTERS);
    }

    /** An attribute key as one field name: OpenSearch reads dots in a name as objects ({@code corral.file_id}). */
    static String escape(String key) {
        return key.replace("%", "%25").replace(".", "%2E");
    }

    private static String field(String key, Object v) {
        return switch (v) {
            case String s -> "s." + escape(key);
            case Boolean b -> "b." + escape(key);
            default -> "n." + escape(key);
        };
    }

    /** Filters as OpenSearch query DSL over the attribute fields {@link #insert} indexes. */
    private static final Filter.Translator<Object> FILTERS = new Filter.Translator<>() {
        @Override
        public Object equal(String key, Object v) {
            return Map.of("term", Map.of(field(key, v), v instanceof Number n ? n.doubleValue() : v));
        }

        @Override
        public Object range(String key, Filter.Op op, Object v) {
            return Map.of("range", Map.of(field(key, v), Map.of(op.name().toLowerCase(Locale.ROOT), v instanceof Number n ? n.doubleValue() : v)));
        }

        @Override
        public Object not(Object q) {
            return Map.of("bool", Map.of("must_not", List.of(q)));
        }

        @Override
        public Object and(List<Object> all) {
            return Map.of("bool", Map.of("filter", all));
        }

        @Override
        public Object or(List<Object> any) {
            return Map.of("bool", Map.of("should", any, "minimum_should_match", 1));
        }

        @Override
        public Object none() {
            return Map.of("match_none", Map.of());
        }

        @Override
        public Object all() {
            return Map.of("match_all", Map.of());
        }
    };

    @Override
    public void close() {
        http.close();
    }
}

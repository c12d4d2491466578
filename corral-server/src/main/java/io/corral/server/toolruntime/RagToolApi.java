package io.corral.server.toolruntime;

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

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Llama Stack 0.2.x's RAG tool ({@code /v1/tool-runtime/rag-tool/insert} and {@code /query}) over {@link VectorStores}:
 * documents (text, text items, or a {@code data:} URL of text) cut into chunks of {@code chunk_size_in_tokens}, embedded
 * by the vector database's model and kept under their {@code document_id}, a document inserted again replacing its
 * chunks; a query searches every vector database named and answers what its agents' {@code knowledge_search} shows a
 * model: the best chunks through the {@code chunk_template}, between Llama Stack's markers, with their document ids,
 * texts and scores in the metadata.
 */
public final class RagToolApi implements Routes.Api {

    static final String TEMPLATE = "Result {index}\nContent: {chunk.content}\nMetadata: {metadata}\n";

    private final VectorStores stores;

    public RagToolApi(VectorStores stores) {
        this.stores = stores;
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/tool-runtime/rag-tool/insert", this::insert).post("/v1/tool-runtime/rag-tool/query", this::query);
    }

    private void insert(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String store = Fields.text(body, "vector_db_id", "vector_db_id");
        if (store == null || store.isBlank()) {
            throw ApiException.badRequest("vector_db_id", "vector_db_id is required");
        }
        Long size = Fields.whole(body, "chunk_size_in_tokens", "chunk_size_in_tokens");
        if (size == null || size < 100 || size > 4096) {
            throw ApiException.badRequest("chunk_size_in_tokens", "chunk_size_in_tokens is required: a whole number from 100 to 4096");
        }
        JsonNode documents = body.get("documents");
        if (documents == null || !documents.isArray() || documents.isEmpty()) {
            throw ApiException.badRequest("documents", "documents is required: a list of documents");
        }
        // every document read before any is stored, so a bad one stores none
        List<Object[]> read = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            JsonNode d = documents.get(i);
            String at = "documents[" + i + "]";
            if (!d.isObject()) {
                throw ApiException.badRequest(at, at + " must be an object");
            }
            String id = Fields.text(d, "document_id", at + ".document_id");
            if (id == null || id.isBlank()) {
                throw ApiException.badRequest(at + ".document_id", at + ".document_id is required");
            }
            JsonNode meta = d.get("metadata");
            if (meta != null && !meta.isNull() && !meta.isObject()) {
                throw ApiException.badRequest(at + ".metadata", at + ".metadata must be an object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> metadata = meta == null || meta.isNull() ? Map.of() : Json.MAPPER.convertValue(meta, Map.class);
            read.add(new Object[]{id, text(d.get("content"), at + ".content"), metadata});
        }
        int tokens = size.intValue();
        VectorStores.Chunking chunking = VectorStores.Chunking.fixed(tokens, tokens / 4);
        for (Object[] d : read) {
            @SuppressWarnings("unchecked")
            Map<String, Object> metadata = (Map<String, Object>) d[2];
            stores.insertDocument(req.tenant(), store, (String) d[0], (String) d[1], metadata, chunking);
        }
        res.json(200, null); // Llama Stack answers nothing: JSON null
    }

    /** A document's content as text: a string, text items, or a {@code data:} URL of text (given as a string or {@code {uri}}). */
    static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            throw ApiException.badRequest(param, param + " is required");
        }
        String uri = content.isTextual() && content.asText().startsWith("data:") ? content.asText()
                : content.isObject() && content.path("uri").isTextual() ? content.path("uri").asText() : null;
        if (uri != null) {
            if (!uri.startsWith("data:")) {
                throw ApiException.badRequest(param, param + ": a document by URL is not fetched; give its text, or a data: URL");
            }
            int comma = uri.indexOf(',');
            String head = comma < 0 ? "" : uri.substring(5, comma);
            if (comma < 0 || !(head.startsWith("text/") || head.startsWith("application/json") || head.isEmpty() || head.equals(";base64"))) {
                throw ApiException.badRequest(param, param + ": only text can be inserted (a data: URL of text/...)");
            }
            String data = uri.substring(comma + 1);
            return head.endsWith(";base64") ? new String(java.util.Base64.getDecoder().decode(data), StandardCharsets.UTF_8)
                    : java.net.URLDecoder.decode(data, StandardCharsets.UTF_8);
        }
        return io.corral.server.vectorstores.VectorIoApi.text(content, param);
    }

    private void query(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String text = text(body.get("content"), "content");
        List<String> dbs = Fields.strings(body, "vector_db_ids", "vector_db_ids");
        if (dbs == null || dbs.isEmpty()) {
            throw ApiException.badRequest("vector_db_ids", "vector_db_ids is required: the vector databases to search");
        }
        JsonNode config = body.path("query_config");
        Long max = Fields.whole(config, "max_chunks", "query_config.max_chunks");
        if (max != null && (max < 1 || max > 1000)) {
            throw ApiException.badRequest("query_config.max_chunks", "query_config.max_chunks must be from 1 to 1000");
        }
        Long maxTokens = Fields.whole(config, "max_tokens_in_context", "query_config.max_tokens_in_context");
        if (maxTokens != null && maxTokens < 1) {
            throw ApiException.badRequest("query_config.max_tokens_in_context", "query_config.max_tokens_in_context must be 1 or more");
        }
        String template = Objects.requireNonNullElse(Fields.text(config, "chunk_template", "query_config.chunk_template"), TEMPLATE);
        Mode m = io.corral.server.vectorstores.VectorStoresApi.mode(config, "mode", "query_config.mode", Mode.VECTOR);
        Ranker ranker = Ranker.DEFAULT;
        JsonNode r = config.get("ranker");
        if (r != null && r.isObject()) {
            ranker = "weighted".equals(r.path("type").asText())
                    ? Ranker.weighted(Objects.requireNonNullElse(Fields.number(r, "alpha", "query_config.ranker.alpha"), 0.5))
                    : Ranker.rrf(Objects.requireNonNullElse(Fields.number(r, "impact_factor", "query_config.ranker.impact_factor"), Ranker.DEFAULT_IMPACT_FACTOR));
        }
        int k = max == null ? 5 : (int) (long) max;
        List<VectorStores.ScoredChunk> found = new ArrayList<>();
        for (String db : dbs) {
            found.addAll(stores.queryChunks(req.tenant(), db, new VectorStores.ChunkQuery(text, k, m, 0, ranker)));
        }
        found.sort(Comparator.comparingDouble(VectorStores.ScoredChunk::score).reversed());
        long budget = maxTokens == null ? 4096 : maxTokens;
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode content = o.putArray("content");
        content.addObject().put("type", "text").put("text", "knowledge_search tool found " + Math.min(k, found.size())
                + " chunks:\nBEGIN of knowledge_search tool results.\n");
        ArrayNode documentIds = Json.MAPPER.createArrayNode(), chunks = Json.MAPPER.createArrayNode(), scores = Json.MAPPER.createArrayNode();
        long tokens = 0;
        for (int i = 0; i < Math.min(k, found.size()); i++) {
            VectorStores.EmbeddedChunk c = found.get(i).chunk();
            tokens += (c.content().getBytes(StandardCharsets.UTF_8).length + 3) / 4; // about 4 bytes a token
            if (tokens > budget) {
                break;
            }
            String metadata = Json.MAPPER.valueToTree(c.metadata()).toString();
            content.addObject().put("type", "text").put("text", template.replace("{index}", Integer.toString(i + 1))
                    .replace("{chunk.content}", c.content()).replace("{metadata}", metadata));
            Object doc = c.metadata().getOrDefault("document_id", c.chunkMetadata().get("document_id"));
            documentIds.add(doc == null ? null : doc.toString());
            chunks.add(c.content());
            scores.add(found.get(i).score());
        }
        content.addObject().put("type", "text").put("text", "END of knowledge_search tool results.\n");
        content.addObject().put("type", "text").put("text", "The above results were retrieved to help answer the user's query: \""
                + text + "\". Use them as supporting information only in answering this query.\n");
        ObjectNode metadata = o.putObject("metadata");
        metadata.set("document_ids", documentIds);
        metadata.set("chunks", chunks);
        metadata.set("scores", scores);
        res.json(200, o);
    }
}

package io.corral.server.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.NotFoundException;
import io.corral.server.http.ApiException;
import io.corral.server.http.Fields;
import io.corral.server.http.Ids;
import io.corral.server.http.Json;
import io.corral.server.http.Multipart;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * OpenAI's Uploads API: a large file sent in parts ({@code POST /v1/uploads} with its size, name, type and purpose; parts
 * as multipart {@code data}, each kept as a file of purpose {@code upload_part}, which listings leave out; complete with
 * the parts in order, optionally an {@code md5}, into one file of the upload's purpose; cancel), within an hour of its
 * creation. The record lives in the state store under the API key's tenant.
 */
public final class UploadsApi implements Routes.Api {

    static final String PART_PURPOSE = "upload_part";
    private static final long LIFETIME_SECONDS = 3600;

    private final FilesProvider files;
    private final KeyValueStore kv;
    private final Clock clock;

    public UploadsApi(FilesProvider files, KeyValueStore kv, Clock clock) {
        this.files = files;
        this.kv = kv;
        this.clock = clock;
    }

    @Override
    public void routes(Routes r) {
        String one = "/v1/uploads/{upload_id}";
        r.post("/v1/uploads", this::create)
                .post(one + "/parts", this::part)
                .post(one + "/complete", this::complete)
                .post(one + "/cancel", (req, res) -> res.json(200, cancel(req.tenant(), req.param("upload_id"))));
    }

    private static String key(String tenant, String id) {
        return "upload/" + (tenant == null ? "-" : tenant) + "/" + id;
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }


    private void create(Request req, Response res) {
        JsonNode body = Json.parse(req.body());
        String filename = Fields.text(body, "filename", "filename");
        String purpose = Fields.text(body, "purpose", "purpose");
        String mime = Fields.text(body, "mime_type", "mime_type");
        Long bytes = Fields.whole(body, "bytes", "bytes");
        if (filename == null || filename.isBlank()) {
            throw ApiException.badRequest("filename", "filename is required");
        }
        if (purpose == null || !FilesApi.PURPOSES.contains(purpose)) {
            throw ApiException.badRequest("purpose", "purpose must be one of " + new java.util.TreeSet<>(FilesApi.PURPOSES) + ", was '" + purpose + "'");
        }
        if (mime == null || mime.isBlank()) {
            throw ApiException.badRequest("mime_type", "mime_type is required");
        }
        if (bytes == null || bytes < 1 || bytes > 8L * 1024 * 1024 * 1024) {
            throw ApiException.badRequest("bytes", "bytes is required: the file's size, a whole number up to 8 GB");
        }
        Long fileExpiresAfter = null; // the completed file's own expiry, as the Files API takes it
        JsonNode e = body.get("expires_after");
        if (e != null && !e.isNull()) {
            Long seconds = Fields.whole(e, "seconds", "expires_after.seconds");
            if (!"created_at".equals(e.path("anchor").asText()) || seconds == null || seconds < 3600 || seconds > 2_592_000) {
                throw ApiException.badRequest("expires_after", "expires_after is {anchor: created_at, seconds: 3600 to 2592000}");
            }
            fileExpiresAfter = seconds.longValue();
        }
        long now = now();
        ObjectNode u = Json.MAPPER.createObjectNode().put("id", Ids.random("upload_")).put("object", "upload").put("bytes", bytes.longValue())
                .put("created_at", now).put("filename", filename).put("purpose", purpose).put("status", "pending")
                .put("expires_at", now + LIFETIME_SECONDS).putNull("file").put("mime_type", mime);
        u.putArray("parts");
        if (fileExpiresAfter != null) {
            u.put("file_expires_after", fileExpiresAfter);
        }
        kv.set(key(req.tenant(), u.path("id").asText()), u.toString());
        res.json(200, shown(u));
    }

    /** The upload as OpenAI shows it (its parts are Corral's own bookkeeping). */
    private static ObjectNode shown(ObjectNode u) {
        ObjectNode o = u.deepCopy();
        o.remove("parts");
        o.remove("mime_type");
        o.remove("file_expires_after");
        return o;
    }

    /** The tenant's upload, expired first when its hour is over (its parts let go). */
    ObjectNode get(String tenant, String id) {
        ObjectNode u = read(tenant, id);
        if (u.path("status").asText().equals("pending") && now() >= u.path("expires_at").asLong()) {
            u = change(tenant, id, o -> o.path("status").asText().equals("pending") ? o.put("status", "expired") : null);
        }
        return u;
    }

    private ObjectNode read(String tenant, String id) {
        return kv.get(key(tenant, id)).map(json -> Json.stored(json, "an upload's record")).orElseThrow(() -> new NotFoundException("upload_id", "no upload " + id));
    }

    /**
     * Changes the record by compare-and-set (parts, a cancel and an expiry may come at once, on one node or several):
     * {@code f} edits a copy, or answers null to leave it as it is. A record leaving {@code pending} lets its parts go.
     */
    private ObjectNode change(String tenant, String id, java.util.function.UnaryOperator<ObjectNode> f) {
        ObjectNode[] was = new ObjectNode[1]; // the record the stored change was made from
        String stored = kv.change(key(tenant, id), json -> {
            was[0] = Json.stored(json, "an upload's record");
            ObjectNode now = f.apply(was[0].deepCopy());
            if (now == null) {
                return json;
            }
            if (was[0].path("status").asText().equals("pending") && !now.path("status").asText().equals("pending")) {
                now.putArray("parts");
            }
            return now.toString();
        }).orElseThrow(() -> new NotFoundException("upload_id", "no upload " + id));
        ObjectNode now = Json.stored(stored, "an upload's record");
        if (was[0].path("status").asText().equals("pending") && !now.path("status").asText().equals("pending")) {
            was[0].path("parts").forEach(p -> files.delete(tenant, p.path("file_id").asText()));
        }
        return now;
    }

    private static ObjectNode pending(ObjectNode u) {
        String status = u.path("status").asText();
        if (!status.equals("pending")) {
            throw ApiException.conflict("upload_id", "upload " + u.path("id").asText() + " is " + status);
        }
        return u;
    }

    private void part(Request req, Response res) {
        String id = req.param("upload_id");
        pending(get(req.tenant(), id));
        Multipart.Part data = Multipart.parse(req.header("Content-Type"), req.body()).stream().filter(p -> p.name().equals("data"))
                .findFirst().orElseThrow(() -> ApiException.badRequest("data", "a 'data' part is required"));
        FilesProvider.FileInfo stored = files.upload(req.tenant(), id + ".part", PART_PURPOSE, LIFETIME_SECONDS,
                new ByteArrayInputStream(data.bytes()));
        String partId = Ids.random("part_");
        try {
            change(req.tenant(), id, u -> {
                pending(u);
                ((ArrayNode) u.withArray("parts")).addObject().put("id", partId).put("file_id", stored.id()).put("bytes", stored.bytes());
                return u;
            });
        } catch (RuntimeException e) {
            files.delete(req.tenant(), stored.id()); // the upload ended meanwhile: the part is nobody's
            throw e;
        }
        res.json(200, Json.MAPPER.createObjectNode().put("id", partId).put("object", "upload.part").put("created_at", now()).put("upload_id", id));
    }

    private void complete(Request req, Response res) throws Exception {
        String id = req.param("upload_id");
        JsonNode body = Json.parse(req.body());
        List<String> order = Fields.strings(body, "part_ids", "part_ids");
        if (order == null || order.isEmpty()) {
            throw ApiException.badRequest("part_ids", "part_ids is required: the parts, in order");
        }
        String md5 = Fields.text(body, "md5", "md5");
        if (new java.util.HashSet<>(order).size() != order.size()) {
            throw ApiException.badRequest("part_ids", "part_ids names a part more than once");
        }
        ObjectNode u = pending(get(req.tenant(), id));
        String before = u.toString();
        java.util.Map<String, JsonNode> parts = new java.util.HashMap<>();
        u.path("parts").forEach(p -> parts.put(p.path("id").asText(), p));
        long total = 0;
        List<InputStream> streams = new ArrayList<>();
        try {
            for (String p : order) {
                JsonNode part = parts.get(p);
                if (part == null) {
                    throw ApiException.badRequest("part_ids", "part " + p + " is not a part of upload " + id);
                }
                total += part.path("bytes").asLong();
                streams.add(files.content(req.tenant(), part.path("file_id").asText())
                        .orElseThrow(() -> ApiException.badRequest("part_ids", "part " + p + " is gone")));
            }
            if (total != u.path("bytes").asLong()) {
                throw ApiException.badRequest("part_ids", "the parts hold " + total + " bytes; the upload was created for " + u.path("bytes").asLong());
            }
            MessageDigest digest = MessageDigest.getInstance("MD5");
            FilesProvider.FileInfo file;
            try (InputStream whole = new DigestInputStream(new SequenceInputStream(Collections.enumeration(streams)), digest)) {
                file = files.upload(req.tenant(), u.path("filename").asText(), u.path("purpose").asText(),
                        u.hasNonNull("file_expires_after") ? u.get("file_expires_after").asLong() : null, whole);
            }
            if (md5 != null && !md5.equalsIgnoreCase(HexFormat.of().formatHex(digest.digest()))) {
                files.delete(req.tenant(), file.id());
                throw ApiException.badRequest("md5", "the parts' MD5 is not " + md5);
            }
            ObjectNode done = u.deepCopy();
            done.putArray("parts");
            done.put("status", "completed");
            done.set("file", FilesApi.json(file));
            // written only over the record as this call read it: of two completes (or a complete and a cancel) at once, one wins
            if (!kv.compareAndSet(key(req.tenant(), id), before, done.toString(), null)) {
                files.delete(req.tenant(), file.id());
                throw ApiException.conflict("upload_id", "upload " + id + " changed while it was completed");
            }
            u.path("parts").forEach(p -> files.delete(req.tenant(), p.path("file_id").asText()));
            res.json(200, shown(done));
        } finally {
            for (InputStream s : streams) {
                s.close();
            }
        }
    }

    private ObjectNode cancel(String tenant, String id) {
        get(tenant, id); // expired first, if its hour is over
        return shown(change(tenant, id, u -> pending(u).put("status", "cancelled")));
    }
}

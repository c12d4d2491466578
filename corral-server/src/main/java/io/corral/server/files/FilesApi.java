package io.corral.server.files;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.Multipart;
import io.corral.server.http.Page;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.FilesProvider;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Set;

/**
 * OpenAI's Files API over a {@link FilesProvider}: {@code POST /v1/files} (multipart: {@code file} and
 * {@code purpose}), {@code GET /v1/files} (by {@code purpose}, {@code order}, cursor {@code after}, {@code limit}),
 * {@code GET /v1/files/{file_id}}, {@code GET /v1/files/{file_id}/content}, {@code DELETE /v1/files/{file_id}}.
 * An upload larger than the server's body limit is a 413 before it is read. A caller sees only its own files
 * (its API key's tenant): another key's are 404.
 */
public final class FilesApi implements Routes.Api {

    /** OpenAI's purposes. */
    static final Set<String> PURPOSES = Set.of("assistants", "batch", "fine-tune", "vision", "user_data", "evals");

    private final FilesProvider files;

    public FilesApi(FilesProvider files) {
        this.files = files;
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/files", this::upload)
                .get("/v1/files", this::list)
                .get("/v1/files/{file_id}", (req, res) -> res.json(200, json(find(req))))
                .get("/v1/files/{file_id}/content", this::content)
                .delete("/v1/files/{file_id}", this::delete);
    }

    private void upload(Request req, Response res) {
        List<Multipart.Part> parts = Multipart.parse(req.header("Content-Type"), req.body());
        Multipart.Part file = parts.stream().filter(p -> p.name().equals("file")).findFirst()
                .orElseThrow(() -> ApiException.badRequest("file", "a 'file' part is required"));
        if (file.filename() == null || file.filename().isBlank()) {
            throw ApiException.badRequest("file", "the 'file' part needs a filename");
        }
        String purpose = parts.stream().filter(p -> p.name().equals("purpose")).findFirst().map(Multipart.Part::text)
                .orElseThrow(() -> ApiException.badRequest("purpose", "purpose is required"));
        if (!PURPOSES.contains(purpose)) {
            throw ApiException.badRequest("purpose", "purpose must be one of " + new java.util.TreeSet<>(PURPOSES) + ", was '" + purpose + "'");
        }
        res.json(200, json(files.upload(req.tenant(), file.filename(), purpose, expiresAfter(parts), new ByteArrayInputStream(file.bytes()))));
    }

    /**
     * {@code expires_after}: {@code anchor} {@code created_at} and {@code seconds} from an hour to 30 days, as
     * OpenAI takes it (form fields {@code expires_after[anchor]} and {@code expires_after[seconds]}); null for never.
     */
    static Long expiresAfter(List<Multipart.Part> parts) {
        String anchor = null;
        String seconds = null;
        for (Multipart.Part p : parts) {
            if (p.name().equals("expires_after[anchor]")) {
                anchor = p.text();
            } else if (p.name().equals("expires_after[seconds]")) {
                seconds = p.text();
            }
        }
        if (anchor == null && seconds == null) {
            return null;
        }
        if (!"created_at".equals(anchor)) {
            throw ApiException.badRequest("expires_after", "expires_after.anchor must be created_at");
        }
        try {
            long s = Long.parseLong(seconds == null ? "" : seconds.strip());
            if (s >= 3600 && s <= 2_592_000) {
                return s;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiException.badRequest("expires_after", "expires_after.seconds must be a whole number from 3600 (an hour) to 2592000 (30 days)");
    }

    private void list(Request req, Response res) {
        String purpose = req.query("purpose");
        List<FilesProvider.FileInfo> listed = files.list(req.tenant(), purpose == null || purpose.isBlank() ? null : purpose);
        if (purpose == null || purpose.isBlank()) { // an upload's parts are its own until it completes
            listed = listed.stream().filter(f -> !f.purpose().equals(UploadsApi.PART_PURPOSE)).toList();
        }
        res.json(200, Page.of(req, listed, FilesProvider.FileInfo::id, FilesApi::json, 10_000, 10_000));
    }

    private FilesProvider.FileInfo find(Request req) {
        String id = req.param("file_id");
        return files.get(req.tenant(), id).orElseThrow(() -> ApiException.notFound("No such File object: " + id));
    }

    private void content(Request req, Response res) throws Exception {
        FilesProvider.FileInfo f = find(req);
        try (InputStream in = files.content(req.tenant(), f.id()).orElseThrow(() -> ApiException.notFound("No such File object: " + f.id()))) {
            res.send(200, "application/octet-stream", in.readAllBytes());
        }
    }

    private void delete(Request req, Response res) {
        String id = req.param("file_id");
        if (!files.delete(req.tenant(), id)) {
            throw ApiException.notFound("No such File object: " + id);
        }
        res.json(200, Json.MAPPER.createObjectNode().put("id", id).put("object", "file").put("deleted", true));
    }

    static ObjectNode json(FilesProvider.FileInfo f) {
        return Json.MAPPER.createObjectNode().put("id", f.id()).put("object", "file").put("bytes", f.bytes())
                .put("created_at", f.createdAt()).put("filename", f.filename()).put("purpose", f.purpose())
                .put("status", "processed").put("expires_at", f.expiresAt());
    }
}

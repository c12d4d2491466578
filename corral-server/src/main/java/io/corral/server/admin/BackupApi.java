package io.corral.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.server.http.Routes;
import io.corral.spi.VectorStores;

import java.nio.file.Path;

/**
 * {@code POST /v1/admin/backup {"path": "/abs/new-folder"}}: a consistent copy of the embedded state while
 * serving ({@link VectorStores#backup}), into a new folder on the server's own disk; so only a client on the
 * server's machine (loopback) may ask, with the server's API key where it has keys. {@code corral backup}
 * calls it.
 */
public final class BackupApi implements Routes.Api {

    private final VectorStores stores;

    public BackupApi(VectorStores stores) {
        this.stores = stores;
    }

    @Override
    public void routes(Routes r) {
        r.post("/v1/admin/backup", this::backup);
    }

    private void backup(Request req, Response res) throws Exception {
        LocalCallers.require(req, "a backup writes to the server's disk: ask from the server's own machine");
        JsonNode body = Json.parse(req.body());
        JsonNode path = body.get("path");
        if (path == null || !path.isTextual() || !Path.of(path.asText()).isAbsolute()) {
            throw ApiException.badRequest("path", "path must be an absolute folder on the server's disk that does not exist yet");
        }
        long t0 = System.nanoTime();
        stores.backup(Path.of(path.asText()));
        res.json(200, Json.MAPPER.createObjectNode().put("path", path.asText())
                .put("took_ms", (System.nanoTime() - t0) / 1_000_000));
    }
}

package io.corral.server.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/** The server's API keys: a request must send one as {@code Authorization: Bearer <key>}, unless none is set. */
public final class ApiKeys {

    private final List<byte[]> keys;

    public ApiKeys(List<String> keys) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    /** Throws 401 unless {@code authorization} (the header, or null) carries a valid key. */
    public void check(String authorization) {
        if (keys.isEmpty()) {
            return;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("missing API key: send Authorization: Bearer <key>");
        }
        byte[] given = authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (byte[] key : keys) { // constant time per key, and every key is tried
            ok |= MessageDigest.isEqual(given, key);
        }
        if (!ok) {
            throw ApiException.unauthorized("invalid API key");
        }
    }
}

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

    /**
     * Throws 401 unless {@code authorization} (the header, or null) carries a valid key; returns the tenant the
     * key stands for (what it creates is its own: {@code key-} and 16 hex digits of the key's SHA-256, which
     * tell nothing of the key), or null when the server has no keys (everything is shared).
     */
    public String check(String authorization) {
        if (keys.isEmpty()) {
            return null;
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
        return tenant(given);
    }

    /** The tenant a configured key stands for. */
    public static String tenantOf(String key) {
        return tenant(key.getBytes(StandardCharsets.UTF_8));
    }

    private static String tenant(byte[] key) {
        try {
            return "key-" + java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}

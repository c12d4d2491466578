package io.corral.server.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/** The server's API keys: a request must send one as {@code Authorization: Bearer <key>}, unless none is set. */
public final class ApiKeys {

    private final List<byte[]> keys;
    private final java.util.Set<String> adminTenants;

    public ApiKeys(List<String> keys) {
        this(keys, List.of());
    }

    /**
     * @param admins the keys that may use admin routes (also valid API keys); empty: every key may (one role)
     */
    public ApiKeys(List<String> keys, List<String> admins) {
        java.util.List<String> all = new java.util.ArrayList<>(keys);
        admins.stream().filter(a -> !all.contains(a)).forEach(all::add);
        this.keys = all.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        this.adminTenants = admins.stream().map(ApiKeys::tenantOf).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * Throws 403 unless {@code tenant} (what {@link #check} returned) may use an admin route: any caller of a server
     * without keys, any key when no key is named admin, else only the admin keys.
     */
    public void checkAdmin(String tenant, String method, String path) {
        if (tenant != null && !adminTenants.isEmpty() && !adminTenants.contains(tenant)) {
            throw ApiException.forbidden(method + " " + path + " is an admin route: it needs one of the server's admin keys");
        }
    }

    /** Whether {@code method path} is an admin route: one that changes the server itself (models, shields, engines, state). */
    public static boolean adminRoute(String method, String path) {
        return path.startsWith("/v1/admin/") || (method.equals("POST") && path.equals("/v1/engines/reload"))
                || path.equals("/api/pull") || path.equals("/api/delete") || path.equals("/api/copy")
                || (path.startsWith("/v1/shields") && (method.equals("POST") || method.equals("DELETE")));
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

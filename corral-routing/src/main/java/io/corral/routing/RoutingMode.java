package io.corral.routing;

/** Which runners a request may use, and in which order. */
public enum RoutingMode {
    /** In-process and local-host engines first, remote ones as fallback. */
    LOCAL_FIRST,
    /** Remote engines first, local ones as fallback. */
    REMOTE_FIRST,
    LOCAL_ONLY,
    REMOTE_ONLY;

    public static RoutingMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new io.corral.api.InvalidRequestException("routing",
                    "routing mode must be local-first, remote-first, local-only or remote-only, was '" + s + "'");
        }
    }
}

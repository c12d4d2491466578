package io.corral.server.http;

/**
 * A request's {@code metadata}, as OpenAI bounds it: at most 16 string pairs, keys up to 64 characters,
 * values up to 512. The pairs become attributes of the request's trace, decoded or forwarded alike.
 */
public final class RequestMetadata {

    public static final int MAX_PAIRS = 16;

    private RequestMetadata() {
    }

    /** Refuses a metadata object of more than {@link #MAX_PAIRS} pairs. */
    public static ApiException tooMany() {
        return ApiException.badRequest("metadata", "metadata must be an object of at most 16 string pairs");
    }

    /** Refuses a pair that is not a string within the bounds; {@code value} is null for a non-string. */
    public static void check(String key, String value) {
        if (value == null || key.length() > 64 || value.length() > 512) {
            throw ApiException.badRequest("metadata", "metadata '" + key + "' must be a string of at most 512 "
                    + "characters, its key at most 64");
        }
    }
}

package io.corral.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;

/** JSON in and out, with request errors that name what is wrong. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest(null, "request body is empty; expected a JSON object");
        }
        try {
            JsonNode node = MAPPER.readTree(body);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest(null, "cannot read request body");
        }
    }

    /** A JSON object Corral stored itself ({@code what} names it in the failure, which is the server's, not the caller's). */
    public static com.fasterxml.jackson.databind.node.ObjectNode stored(String json, String what) {
        try {
            return (com.fasterxml.jackson.databind.node.ObjectNode) MAPPER.readTree(json);
        } catch (java.io.IOException | ClassCastException e) {
            throw new java.io.UncheckedIOException(what + " cannot be read", e instanceof java.io.IOException io ? io : new java.io.IOException(e));
        }
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String text(Object value) {
        return new String(bytes(value), StandardCharsets.UTF_8);
    }
}

package io.corral.server.http;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A request body's fields read as the API types them, for every API family's routes: absent (or null) is null, the
 * right type is its value, anything else is a 400 naming the field ({@code param}, which may be a path such as
 * {@code options.num_predict}), never a silent 0 or a dropped value.
 */
public final class Fields {

    private Fields() {
    }

    /** {@code o.key} as a string. */
    public static String text(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(param, param + " must be a string");
        }
        return v.asText();
    }

    /** {@code o.key} as a number. */
    public static Double number(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest(param, param + " must be a number, not " + v);
        }
        return v.asDouble();
    }

    /** {@code o.key} as a list of strings. */
    public static List<String> strings(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode each : v) {
                if (!each.isTextual()) {
                    break;
                }
                out.add(each.asText());
            }
        }
        if (!v.isArray() || out.size() != v.size()) {
            throw ApiException.badRequest(param, param + " must be a list of strings");
        }
        return out;
    }

    /** {@code o.key} as true or false. */
    public static Boolean flag(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(param, param + " must be true or false");
        }
        return v.asBoolean();
    }
}

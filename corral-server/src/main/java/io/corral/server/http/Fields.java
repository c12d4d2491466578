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
        JsonNode v = typed(o, key, param, JsonNode::isTextual, "a string");
        return v == null ? null : v.asText();
    }

    /** {@code o.key} as a number. */
    public static Double number(JsonNode o, String key, String param) {
        JsonNode v = typed(o, key, param, JsonNode::isNumber, "a number");
        return v == null ? null : v.asDouble();
    }

    /** {@code o.key} as a whole number ({@code 3}, not {@code 3.0} or {@code "3"}). */
    public static Long whole(JsonNode o, String key, String param) {
        JsonNode v = typed(o, key, param, n -> n.isIntegralNumber() && n.canConvertToLong(), "a whole number");
        return v == null ? null : v.asLong();
    }

    /** {@code o.key} as a list of strings. */
    public static List<String> strings(JsonNode o, String key, String param) {
        JsonNode v = typed(o, key, param, n -> n.isArray() && n.valueStream().allMatch(JsonNode::isTextual), "a list of strings");
        if (v == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        v.forEach(each -> out.add(each.asText()));
        return out;
    }

    /** {@code o.key} as true or false. */
    public static Boolean flag(JsonNode o, String key, String param) {
        JsonNode v = typed(o, key, param, JsonNode::isBoolean, "true or false");
        return v == null ? null : v.asBoolean();
    }

    /** {@code o.key} when it is there and {@code ok}, null when absent; a 400 saying it must be {@code what} otherwise. */
    private static JsonNode typed(JsonNode o, String key, String param, java.util.function.Predicate<JsonNode> ok, String what) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!ok.test(v)) {
            throw ApiException.badRequest(param, param + " must be " + what + ", not " + v);
        }
        return v;
    }
}

package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.api.InvalidRequestException;

/**
 * A request's plain fields checked as the API types them, for the Responses and the legacy agents requests: absent or
 * null passes, any other type or value is a 400 naming the field ({@code param}).
 */
final class Checks {

    private Checks() {
    }

    static void number(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v != null && !v.isNull() && !v.isNumber()) {
            throw new InvalidRequestException(param, param + " must be a number, not " + v);
        }
    }

    static void whole(JsonNode o, String key, String param, int least) {
        JsonNode v = o.get(key);
        if (v != null && !v.isNull() && !(v.isIntegralNumber() && v.canConvertToInt() && v.asInt() >= least)) {
            throw new InvalidRequestException(param, param + " must be a whole number of at least " + least + ", not " + v);
        }
    }

    static void flag(JsonNode o, String key, String param) {
        JsonNode v = o.get(key);
        if (v != null && !v.isNull() && !v.isBoolean()) {
            throw new InvalidRequestException(param, param + " must be true or false, not " + v);
        }
    }
}

package io.corral.server.gateway;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;

import java.io.IOException;

/**
 * What routing needs from an OpenAI request, without building a tree: the model and whether it asks for
 * a stream (one pass of the streaming parser, other fields skipped), and whether a message carries an
 * image (an {@code "image_url"} part). Bad JSON is 400.
 */
record WireScan(String model, boolean stream, boolean images) {

    private static final byte[] IMAGE = "\"image_url\"".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    static WireScan of(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest(null, "request body is empty; expected a JSON object");
        }
        String model = null;
        boolean stream = false;
        try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            for (JsonToken t; (t = p.nextToken()) != JsonToken.END_OBJECT; ) {
                if (t == null) {
                    throw ApiException.badRequest(null, "request body is cut short");
                }
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("model")) {
                    model = value == JsonToken.VALUE_STRING ? p.getText() : null;
                } else if (name.equals("stream")) {
                    if (value != JsonToken.VALUE_TRUE && value != JsonToken.VALUE_FALSE && value != JsonToken.VALUE_NULL) {
                        throw ApiException.badRequest("stream", "stream must be true or false"); // as when decoded
                    }
                    stream = value == JsonToken.VALUE_TRUE;
                }
                p.skipChildren(); // still read, so bad JSON anywhere is found
            }
            if (p.nextToken() != null) {
                throw ApiException.badRequest(null, "request body has text after its JSON object");
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiException.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest(null, "cannot read request body");
        }
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("model", "model is required (a model id from GET /v1/models)");
        }
        return new WireScan(model, stream, contains(body, IMAGE));
    }

    /** An image part names its type {@code "image_url"}; a text that quotes it only asks for a vision runner. */
    private static boolean contains(byte[] body, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= body.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (body[i + j] != what[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The request with another model id (a runner that knows the model by its own name). */
    static byte[] withModel(byte[] body, String model) {
        ObjectNode o = (ObjectNode) Json.parse(body);
        o.put("model", model);
        return Json.bytes(o);
    }
}

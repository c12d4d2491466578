package io.corral.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * What routing needs from an OpenAI request, read in one pass of the streaming parser without building
 * a tree: the model, whether it asks for a stream, whether a message carries an image. Bad JSON is 400.
 */
record WireScan(String model, boolean stream, boolean images) {

    static WireScan of(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest(null, "request body is empty; expected a JSON object");
        }
        String model = null;
        boolean stream = false;
        boolean images = false;
        try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            int depth = 1;
            while (depth > 0) {
                JsonToken t = p.nextToken();
                if (t == null) {
                    throw ApiException.badRequest(null, "request body is cut short");
                }
                switch (t) {
                    case START_OBJECT, START_ARRAY -> depth++;
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME -> {
                        String name = p.currentName();
                        if (depth == 1 && name.equals("model")) {
                            model = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                            depth += opened(p.currentToken());
                        } else if (depth == 1 && name.equals("stream")) {
                            stream = p.nextToken() == JsonToken.VALUE_TRUE;
                            depth += opened(p.currentToken());
                        } else if (name.equals("type")) {
                            JsonToken v = p.nextToken();
                            images |= v == JsonToken.VALUE_STRING && p.getText().equals("image_url");
                            depth += opened(v);
                        }
                    }
                    default -> {
                    }
                }
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
        return new WireScan(model, stream, images);
    }

    private static int opened(JsonToken t) {
        return t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY ? 1 : 0;
    }

    /** The request with another model id (a runner that knows the model by its own name). */
    static byte[] withModel(byte[] body, String model) {
        ObjectNode o = (ObjectNode) Json.parse(body);
        o.put("model", model);
        return Json.bytes(o);
    }
}

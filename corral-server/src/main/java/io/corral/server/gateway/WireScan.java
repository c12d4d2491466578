package io.corral.server.gateway;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.ApiException;
import io.corral.server.http.Json;
import io.corral.server.http.RequestMetadata;

import java.io.IOException;

/**
 * What routing needs from an OpenAI request, without building a tree: the model, whether it asks for a
 * stream and for usage on it ({@code stream_options.include_usage}), in one pass of the streaming parser
 * (other fields skipped), whether a message carries an image (an {@code "image_url"} part), and its
 * {@code metadata} pairs (for the request's trace, bounded as when decoded), whether it names guardrails of its
 * own (then it is decoded, so its shields can read it), and whether it asks to be stored ({@code store: true}: then it is
 * decoded, so Corral keeps it where {@code GET /v1/chat/completions} finds it). Bad JSON is 400. The scan stops at the model when it
 * is not one that could be forwarded: the decoding path reads the request anyway.
 */
record WireScan(String model, boolean stream, boolean images, boolean includeUsage, boolean streamOptions,
                java.util.Map<String, String> metadata, boolean guardrails, boolean store) {

    private static final byte[] IMAGE = "\"image_url\"".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** The scan, or null once the model is read and {@code forwardable} says no (then the rest is not read). */
    static WireScan of(byte[] body, java.util.function.Predicate<String> forwardable) {
        if (body.length == 0) {
            throw ApiException.badRequest(null, "request body is empty; expected a JSON object");
        }
        String model = null;
        boolean stream = false;
        boolean includeUsage = false;
        boolean streamOptions = false;
        java.util.Map<String, String> metadata = java.util.Map.of();
        boolean guardrails = false;
        boolean store = false;
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
                    if (model != null && !model.isBlank() && !forwardable.test(model)) {
                        return null;
                    }
                } else if (name.equals("stream")) {
                    if (value != JsonToken.VALUE_TRUE && value != JsonToken.VALUE_FALSE && value != JsonToken.VALUE_NULL) {
                        throw ApiException.badRequest("stream", "stream must be true or false"); // as when decoded
                    }
                    stream = value == JsonToken.VALUE_TRUE;
                } else if (name.equals("store")) {
                    store = value == JsonToken.VALUE_TRUE;
                } else if (name.equals("guardrails")) {
                    guardrails = value != JsonToken.VALUE_NULL;
                } else if (name.equals("metadata") && value != JsonToken.VALUE_NULL) {
                    metadata = metadata(p, value);
                    continue;
                } else if (name.equals("stream_options") && value == JsonToken.START_OBJECT) {
                    streamOptions = true;
                    for (JsonToken o; (o = p.nextToken()) != JsonToken.END_OBJECT && o != null; ) {
                        JsonToken v = p.nextToken();
                        if (p.currentName().equals("include_usage")) {
                            includeUsage = v == JsonToken.VALUE_TRUE;
                        }
                        p.skipChildren();
                    }
                    continue;
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
        return new WireScan(model, stream, contains(body, IMAGE), includeUsage, streamOptions, metadata, guardrails, store);
    }

    private static java.util.Map<String, String> metadata(JsonParser p, JsonToken start) throws IOException {
        if (start != JsonToken.START_OBJECT) {
            throw RequestMetadata.tooMany();
        }
        java.util.Map<String, String> pairs = new java.util.LinkedHashMap<>();
        for (JsonToken t; (t = p.nextToken()) != JsonToken.END_OBJECT && t != null; ) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            RequestMetadata.check(key, v == JsonToken.VALUE_STRING ? p.getText() : null);
            pairs.put(key, p.getText());
            if (pairs.size() > RequestMetadata.MAX_PAIRS) {
                throw RequestMetadata.tooMany();
            }
        }
        return pairs;
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

    private static final byte[] ASK_USAGE = "\"stream_options\":{\"include_usage\":true},".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /**
     * The bytes to send upstream: as they came, unless the runner knows the model by another name, or a
     * stream does not ask for usage (then it is asked for, so the tokens are counted; the extra chunk is
     * kept from the client). The common case, a stream without {@code stream_options}, is one copy with a
     * member put in front; only a rename or existing {@code stream_options} builds a tree.
     */
    byte[] upstreamBody(byte[] body, String upstreamModel) {
        boolean rename = !upstreamModel.equals(model);
        boolean askUsage = stream && !includeUsage;
        if (!rename && !askUsage) {
            return body;
        }
        if (!rename && !streamOptions) {
            int open = 0;
            while (body[open] != '{') {
                open++; // the scan found the object, so there is one
            }
            byte[] out = new byte[body.length + ASK_USAGE.length];
            System.arraycopy(body, 0, out, 0, open + 1);
            System.arraycopy(ASK_USAGE, 0, out, open + 1, ASK_USAGE.length);
            System.arraycopy(body, open + 1, out, open + 1 + ASK_USAGE.length, body.length - open - 1);
            return out;
        }
        ObjectNode o = (ObjectNode) Json.parse(body);
        o.put("model", upstreamModel);
        if (askUsage) {
            o.withObjectProperty("stream_options").put("include_usage", true);
        }
        return Json.bytes(o);
    }
}

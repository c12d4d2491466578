package io.corral.api;

import java.util.Objects;

/** The shape the output must take. Local engines enforce it with a grammar. */
public sealed interface ResponseFormat {

    /** Free text (the default). */
    record Text() implements ResponseFormat {
    }

    /** Any JSON object. */
    record JsonObject() implements ResponseFormat {
    }

    /** JSON conforming to a JSON Schema, given as JSON text. */
    record JsonSchema(String name, String schema) implements ResponseFormat {
        public JsonSchema {
            Objects.requireNonNull(schema, "schema");
        }
    }

    /** A GBNF grammar (llama.cpp's grammar language) with root rule {@code root}. */
    record Grammar(String gbnf) implements ResponseFormat {
        public Grammar {
            Objects.requireNonNull(gbnf, "gbnf");
        }
    }

    ResponseFormat TEXT = new Text();
    ResponseFormat JSON_OBJECT = new JsonObject();

    static ResponseFormat jsonSchema(String schema) {
        return new JsonSchema("response", schema);
    }

    static ResponseFormat grammar(String gbnf) {
        return new Grammar(gbnf);
    }
}

package io.corral.llamacpp.grammar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Converts a JSON Schema into a GBNF grammar (llama.cpp's grammar language) whose sentences are JSON
 * documents valid against the schema. Supported: type (one or several), properties with required,
 * items, prefixItems, minItems/maxItems, minLength/maxLength, enum, const, anyOf/oneOf, $ref to
 * {@code #/$defs} or {@code #/definitions} (recursive too), and the empty schema. Not enforced:
 * pattern, format, numeric bounds, additional properties (objects take only the declared ones).
 * allOf and not are refused with an {@link InvalidRequestException}.
 */
public final class JsonSchemaGrammar {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> PRIMITIVES = new LinkedHashMap<>();

    static {
        // at most one space between tokens: small models otherwise wander into runs of white space
        PRIMITIVES.put("space", "| \" \"");
        PRIMITIVES.put("boolean", "(\"true\" | \"false\") space");
        PRIMITIVES.put("null", "\"null\" space");
        PRIMITIVES.put("integral-part", "[0] | [1-9] [0-9]{0,15}");
        PRIMITIVES.put("decimal-part", "[0-9]{1,16}");
        PRIMITIVES.put("integer", "(\"-\"? integral-part) space");
        PRIMITIVES.put("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space");
        PRIMITIVES.put("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        PRIMITIVES.put("string", "\"\\\"\" char* \"\\\"\" space");
        PRIMITIVES.put("value", "object | array | string | number | boolean | null");
        PRIMITIVES.put("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space");
        PRIMITIVES.put("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space");
    }

    private final JsonNode root;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> refRules = new HashMap<>();
    private final Set<String> usedPrimitives = new LinkedHashSet<>();

    private JsonSchemaGrammar(JsonNode root) {
        this.root = root;
    }

    /** A grammar for any JSON object (OpenAI's {@code json_object} response format). */
    public static String anyJsonObject() {
        JsonSchemaGrammar g = new JsonSchemaGrammar(null);
        g.rules.put("root", "object");
        g.usedPrimitives.add("object");
        return g.render();
    }

    /** A grammar for JSON documents valid against {@code schemaJson}. */
    public static String fromSchema(String schemaJson) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("response_format", "JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
        if (schema == null || !(schema.isObject() || schema.isBoolean())) {
            throw new InvalidRequestException("response_format", "JSON schema must be an object");
        }
        JsonSchemaGrammar g = new JsonSchemaGrammar(schema);
        String body = g.visit(schema, "root");
        if (!g.rules.containsKey("root") || !"root".equals(body)) {
            g.rules.put("root", body);
        }
        return g.render();
    }

    private String render() {
        StringBuilder out = new StringBuilder();
        rules.forEach((name, body) -> out.append(name).append(" ::= ").append(body).append('\n'));
        // primitives pull in the ones they use
        Set<String> needed = new LinkedHashSet<>();
        for (String p : usedPrimitives) {
            addWithDependencies(p, needed);
        }
        needed.add("space");
        for (String p : PRIMITIVES.keySet()) {
            if (needed.contains(p)) {
                out.append(p).append(" ::= ").append(PRIMITIVES.get(p)).append('\n');
            }
        }
        return out.toString();
    }

    private static void addWithDependencies(String name, Set<String> needed) {
        if (!needed.add(name)) {
            return;
        }
        String body = PRIMITIVES.get(name);
        for (String other : PRIMITIVES.keySet()) {
            if (body.matches(".*(^|[^a-z-])" + other + "([^a-z-]|$).*")) {
                addWithDependencies(other, needed);
            }
        }
    }

    /** Returns a grammar expression for {@code schema}; complex ones become named rules. */
    private String visit(JsonNode schema, String name) {
        if (schema.isBoolean() || schema.isEmpty()) {
            return primitive("value");
        }
        if (schema.has("$ref")) {
            return ref(schema.get("$ref").asText());
        }
        if (schema.has("allOf") || schema.has("not")) {
            throw new InvalidRequestException("response_format", "JSON schema keyword "
                    + (schema.has("allOf") ? "allOf" : "not") + " is not supported");
        }
        if (schema.has("const")) {
            return literal(schema.get("const")) + " space";
        }
        if (schema.has("enum")) {
            List<String> alts = new ArrayList<>();
            schema.get("enum").forEach(v -> alts.add(literal(v)));
            return rule(name, "(" + String.join(" | ", alts) + ") space");
        }
        for (String key : List.of("anyOf", "oneOf")) {
            if (schema.has(key)) {
                List<String> alts = new ArrayList<>();
                int i = 0;
                for (JsonNode alt : schema.get(key)) {
                    alts.add(visit(alt, name + "-" + i++));
                }
                return rule(name, String.join(" | ", alts));
            }
        }
        JsonNode type = schema.get("type");
        if (type != null && type.isArray()) {
            List<String> alts = new ArrayList<>();
            for (JsonNode t : type) {
                alts.add(visitType(t.asText(), schema, name + "-" + t.asText()));
            }
            return rule(name, String.join(" | ", alts));
        }
        if (type == null) {
            if (schema.has("properties")) {
                return visitType("object", schema, name);
            }
            if (schema.has("items") || schema.has("prefixItems")) {
                return visitType("array", schema, name);
            }
            return primitive("value");
        }
        return visitType(type.asText(), schema, name);
    }

    private String visitType(String type, JsonNode schema, String name) {
        return switch (type) {
            case "object" -> object(schema, name);
            case "array" -> array(schema, name);
            case "string" -> string(schema, name);
            case "integer", "number", "boolean", "null" -> primitive(type);
            default -> throw new InvalidRequestException("response_format", "unknown JSON schema type: " + type);
        };
    }

    private String object(JsonNode schema, String name) {
        JsonNode props = schema.get("properties");
        if (props == null || props.isEmpty()) {
            return primitive("object");
        }
        Set<String> required = new LinkedHashSet<>();
        if (schema.has("required")) {
            schema.get("required").forEach(r -> required.add(r.asText()));
        }
        List<String> mandatory = new ArrayList<>();
        List<String> optional = new ArrayList<>();
        for (var it = props.fields(); it.hasNext(); ) {
            var e = it.next();
            String kv = literal(JSON.getNodeFactory().textNode(e.getKey())) + " space \":\" space "
                    + visit(e.getValue(), name + "-" + sanitize(e.getKey()));
            (required.contains(e.getKey()) ? mandatory : optional).add(kv);
        }
        StringBuilder body = new StringBuilder("\"{\" space ");
        if (!mandatory.isEmpty()) {
            body.append(String.join(" \",\" space ", mandatory));
            for (String kv : optional) {
                body.append(" (\",\" space ").append(kv).append(")?");
            }
        } else {
            // no required keys: any subset in order, the first one present without a comma
            List<String> alts = new ArrayList<>();
            for (int i = 0; i < optional.size(); i++) {
                StringBuilder alt = new StringBuilder(optional.get(i));
                for (int j = i + 1; j < optional.size(); j++) {
                    alt.append(" (\",\" space ").append(optional.get(j)).append(")?");
                }
                alts.add(alt.toString());
            }
            body.append("( ").append(String.join(" | ", alts)).append(" )?");
        }
        body.append(" \"}\" space");
        return rule(name, body.toString());
    }

    private String array(JsonNode schema, String name) {
        if (schema.has("prefixItems")) {
            List<String> items = new ArrayList<>();
            int i = 0;
            for (JsonNode item : schema.get("prefixItems")) {
                items.add(visit(item, name + "-" + i++));
            }
            return rule(name, "\"[\" space " + String.join(" \",\" space ", items) + " \"]\" space");
        }
        String item = schema.has("items") ? visit(schema.get("items"), name + "-item") : primitive("value");
        int min = schema.path("minItems").asInt(0);
        int max = schema.has("maxItems") ? schema.get("maxItems").asInt() : -1;
        if (max == 0) {
            return rule(name, "\"[\" space \"]\" space");
        }
        String more = "(\",\" space " + item + ")" + repeat(Math.max(0, min - 1), max < 0 ? -1 : max - 1);
        String items = item + " " + more;
        return rule(name, "\"[\" space " + (min > 0 ? items : "( " + items + " )?") + " \"]\" space");
    }

    private String string(JsonNode schema, String name) {
        if (!schema.has("minLength") && !schema.has("maxLength")) {
            return primitive("string");
        }
        usedPrimitives.add("char");
        int min = schema.path("minLength").asInt(0);
        int max = schema.has("maxLength") ? schema.get("maxLength").asInt() : -1;
        return rule(name, "\"\\\"\" char" + repeat(min, max) + " \"\\\"\" space");
    }

    private static String repeat(int min, int max) {
        return max < 0 ? "{" + min + ",}" : "{" + min + "," + max + "}";
    }

    private String ref(String ref) {
        String existing = refRules.get(ref);
        if (existing != null) {
            return existing;
        }
        JsonNode target = resolve(ref);
        String name = "ref-" + sanitize(ref.substring(ref.lastIndexOf('/') + 1));
        refRules.put(ref, name);
        rules.put(name, ""); // reserve, so recursion refers to it
        String body = visit(target, name + "-body");
        rules.put(name, body);
        return name;
    }

    private JsonNode resolve(String ref) {
        if (root == null || !ref.startsWith("#/")) {
            throw new InvalidRequestException("response_format", "only local $ref (#/...) is supported, got " + ref);
        }
        JsonNode node = root.at(ref.substring(1));
        if (node.isMissingNode()) {
            throw new InvalidRequestException("response_format", "JSON schema $ref not found: " + ref);
        }
        return node;
    }

    private String primitive(String name) {
        usedPrimitives.add(name);
        return name;
    }

    private String rule(String name, String body) {
        String unique = name;
        for (int i = 2; rules.containsKey(unique) && !body.equals(rules.get(unique)); i++) {
            unique = name + i;
        }
        rules.put(unique, body);
        usedPrimitives.add("space");
        return unique;
    }

    /** A GBNF string literal matching the JSON text of {@code value}. */
    private static String literal(JsonNode value) {
        String json = value.toString();
        StringBuilder sb = new StringBuilder("\"");
        for (char c : json.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static String sanitize(String s) {
        String t = s.replaceAll("[^a-zA-Z0-9-]+", "-");
        return t.isEmpty() ? "x" : t;
    }
}

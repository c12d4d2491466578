package io.corral.llamacpp.grammar;

import io.corral.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonSchemaGrammarTest {

    @Test
    void objectWithRequiredAndOptionalProperties() {
        String g = JsonSchemaGrammar.fromSchema("""
                {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}""");
        assertThat(g).contains("root ::= \"{\" space \"\\\"a\\\"\" space \":\" space integer (\",\" space \"\\\"b\\\"\" space \":\" space string)? \"}\" space");
        assertThat(g).contains("integer ::=").contains("string ::=").contains("char ::=").contains("space ::=");
        assertThat(g).doesNotContain("array ::=");
    }

    @Test
    void enumConstAndNullableTypes() {
        String g = JsonSchemaGrammar.fromSchema("""
                {"type":"object","properties":{"c":{"enum":["red",1,null]},"k":{"const":"x"},"n":{"type":["string","null"]}},
                 "required":["c","k","n"]}""");
        assertThat(g).contains("root-c ::= (\"\\\"red\\\"\" | \"1\" | \"null\") space");
        assertThat(g).contains("\"\\\"x\\\"\" space");
        assertThat(g).contains("root-n ::= string | null");
    }

    @Test
    void arraysWithBounds_andStringLengths() {
        String g = JsonSchemaGrammar.fromSchema("""
                {"type":"array","items":{"type":"string","minLength":1,"maxLength":3},"minItems":1,"maxItems":2}""");
        assertThat(g).contains("root-item ::= \"\\\"\" char{1,3} \"\\\"\" space");
        assertThat(g).contains("root ::= \"[\" space root-item (\",\" space root-item){0,1} \"]\" space");
    }

    @Test
    void recursiveRefs_becomeRecursiveRules() {
        String g = JsonSchemaGrammar.fromSchema("""
                {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
                  "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["next"]}}}""");
        assertThat(g).contains("ref-node ::= ref-node-body");
        assertThat(g).containsPattern("ref-node-body-next ::= ref-node \\| null");
        assertThat(g).contains("root ::= ref-node");
    }

    @Test
    void unsupportedOrBrokenSchemas_areInvalidRequests() {
        assertThatThrownBy(() -> JsonSchemaGrammar.fromSchema("{\"allOf\":[]}"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("allOf");
        assertThatThrownBy(() -> JsonSchemaGrammar.fromSchema("{not json"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> JsonSchemaGrammar.fromSchema("{\"$ref\":\"#/$defs/missing\"}"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("missing");
        assertThatThrownBy(() -> JsonSchemaGrammar.fromSchema("{\"type\":\"decimal\"}"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("decimal");
    }
}

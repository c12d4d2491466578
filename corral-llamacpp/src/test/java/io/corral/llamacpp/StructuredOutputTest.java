package io.corral.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.InvalidRequestException;
import io.corral.api.ResponseFormat;
import io.corral.api.SamplingParams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Grammar-constrained output on the real (tiny, story-writing) model still conforms. */
class StructuredOutputTest {

    static final String SCHEMA = """
            {"type":"object",
             "properties":{
               "name":{"type":"string","maxLength":12},
               "age":{"type":"integer"},
               "happy":{"type":"boolean"},
               "color":{"enum":["red","blue","green"]},
               "tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3},
               "pet":{"type":["object","null"],"properties":{"kind":{"type":"string","maxLength":6}},"required":["kind"]}},
             "required":["name","age","happy","color","tags","pet"],
             "additionalProperties":false}""";
    static final ObjectMapper JSON = new ObjectMapper();
    static final LlamaCppEngine engine = TestModels.engine();

    @ParameterizedTest
    @ValueSource(longs = {-1, 1, 2, 3, 4})
    void jsonSchemaOutput_parsesAndValidates(long seed) throws Exception {
        SamplingParams p = seed < 0 ? TestModels.greedy(400)
                : SamplingParams.builder().temperature(1.0).seed(seed).maxTokens(400).build();
        ChatResult r = engine.chat(ChatRequest.builder().user("Describe a child as JSON.").sampling(p)
                .format(ResponseFormat.jsonSchema(SCHEMA)).build());
        JsonNode doc = JSON.readTree(r.text());
        JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(SCHEMA);
        assertThat(schema.validate(doc)).as(r.text()).isEmpty();
    }

    /**
     * The tiny model never closes a free-form object within its window, so this checks that every
     * token kept the text a valid JSON object prefix: parsing fails only at the end of input.
     */
    @Test
    void jsonObjectOutput_isAlwaysAValidObjectPrefix() throws Exception {
        for (long seed = 1; seed <= 4; seed++) {
            ChatResult r = engine.chat(ChatRequest.builder().user("Once upon a time")
                    .sampling(SamplingParams.builder().temperature(1.0).seed(seed).maxTokens(120).build())
                    .format(ResponseFormat.JSON_OBJECT).build());
            assertThat(r.text()).startsWith("{");
            try {
                assertThat(JSON.readTree(r.text()).isObject()).isTrue();
            } catch (com.fasterxml.jackson.core.io.JsonEOFException endOfInput) {
                assertThat(r.finishReason()).isEqualTo(io.corral.api.FinishReason.LENGTH);
            }
        }
    }

    @Test
    void customGrammar_constrainsTheAnswer() {
        for (long seed = 1; seed <= 5; seed++) {
            ChatResult r = engine.chat(ChatRequest.builder().user("Is the sky blue?")
                    .sampling(SamplingParams.builder().temperature(1.0).seed(seed).maxTokens(10).build())
                    .format(ResponseFormat.grammar("root ::= (\"yes\" | \"no\") \".\"")).build());
            assertThat(r.text()).isIn("yes.", "no.");
        }
    }

    @Test
    void grammarThatDoesNotParse_isAnInvalidRequest() {
        assertThatThrownBy(() -> engine.chat(ChatRequest.builder().user("x")
                .format(ResponseFormat.grammar("root ::= (")).build()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("grammar");
    }
}

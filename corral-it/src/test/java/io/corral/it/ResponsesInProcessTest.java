package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.agents.ResponsesService;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Responses loop and the library's agent on the real in-process model: a named tool_choice makes the tiny model
 * call the tool through a grammar, so the call's arguments are JSON matching the tool's schema.
 */
class ResponsesInProcessTest {

    static LlamaCppEngine engine;
    static String id;

    @BeforeAll
    static void open() {
        engine = LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1).withContextSize(1024));
        id = engine.models().getFirst().id();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static final Map<String, Object> LOOKUP = Map.of("type", "function", "name", "lookup_person", "parameters",
            Map.of("type", "object", "properties", Map.of("name", Map.of("type", "string")), "required", List.of("name")));

    @Test
    void aForcedToolCall_isAFunctionCallItem_whoseArgumentsMatchTheSchema(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (var kv = io.corral.storage.SqlKeyValueStore.sqlite(dir.resolve("state.db"), Clock.systemUTC())) {
            check(new ResponsesService(m -> engine, null, null, kv, Clock.systemUTC()));
        }
    }

    @SuppressWarnings("unchecked")
    private static void check(ResponsesService s) throws Exception {
        Map<String, Object> r = s.create(null, Map.of("model", id, "input", "Who leads Project Falcon?", "tools", List.of(LOOKUP),
                "tool_choice", Map.of("type", "function", "name", "lookup_person"), "max_output_tokens", 200, "temperature", 0), null);
        List<Map<String, Object>> output = (List<Map<String, Object>>) r.get("output");
        assertThat(output).as(String.valueOf(r)).isNotEmpty();
        Map<String, Object> call = output.getLast();
        assertThat(call).containsEntry("type", "function_call").containsEntry("name", "lookup_person");
        JsonNode args = new ObjectMapper().readTree(String.valueOf(call.get("arguments")));
        assertThat(args.path("name").isTextual()).isTrue();
        assertThat(((Map<String, Object>) r.get("usage")).get("output_tokens")).isNotEqualTo(0);
    }
}

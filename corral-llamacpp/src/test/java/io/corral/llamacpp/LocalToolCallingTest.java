package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.Role;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.llamacpp.template.Template;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool calling on a local model end to end: the bundled model, with Qwen 2.5's published chat template written
 * into a copy of it, is prompted as that template says (tools and tool results included), calls a tool when it
 * must, and (a story model never choosing a tool by itself) answers in text when it may.
 */
class LocalToolCallingTest {

    @TempDir
    static Path dir;
    static String qwen;
    static LlamaCppEngine engine;
    static final ToolSpec WEATHER = new ToolSpec("get_weather", "Get the current weather in a city",
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":12}},\"required\":[\"city\"]}");

    @BeforeAll
    static void open() throws Exception {
        qwen = Files.readString(Path.of("src/test/resources/chat-templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        Path model = TemplatedModel.copy(TestModels.stories(), dir.resolve("stories-qwen-template.gguf"), qwen);
        engine = LlamaCppEngine.open(LlamaCppConfig.of(model).withThreads(1).withContextSize(2048));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void thePrompt_isTheTemplatesRendering_withToolsAndToolResults() throws Exception {
        List<ChatMessage> conversation = List.of(ChatMessage.user("Weather in Paris?"),
                new ChatMessage(Role.ASSISTANT, List.of(), List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")), null),
                ChatMessage.tool("call_1", "{\"temperature\": 21}"));
        String prompt = engine.format().renderRequest(conversation, List.of(WEATHER));
        Map<String, Object> vars = new com.fasterxml.jackson.databind.ObjectMapper().readValue("""
                {"messages": [{"role": "user", "content": "Weather in Paris?"},
                              {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
                                  "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                              {"role": "tool", "content": "{\\"temperature\\": 21}", "tool_call_id": "call_1", "name": "get_weather"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city",
                            "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
                                           "required": ["city"]}}}],
                 "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"}
                """, Map.class);
        assertThat(prompt).isEqualTo(Template.parse(qwen).render(vars))
                .contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"")
                .contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>")
                .contains("<tool_response>\n{\"temperature\": 21}\n</tool_response>")
                .endsWith("<|im_start|>assistant\n");
        assertThat(engine.format().toolCalls()).isEqualTo(ToolCallFormat.HERMES);
    }

    @Test
    void toolChoiceRequired_callsTheTool_streamingItsArguments() {
        ChatRequest ask = ChatRequest.builder().user("What is the weather in Paris?").tool(WEATHER)
                .toolChoice(ToolChoice.REQUIRED).sampling(TestModels.greedy(60)).build();
        List<StreamEvent> events = new ArrayList<>();
        ChatResult r;
        try (TokenStream s = engine.stream(ask)) {
            s.forEachRemaining(events::add);
            r = s.result();
        }
        assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
        assertThat(r.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("get_weather");
            assertThat(c.arguments()).contains("\"city\"");
        });
        assertThat(events).filteredOn(e -> e instanceof StreamEvent.ToolCallDelta).hasSizeGreaterThan(2);
        // the tools are in the prompt: it is longer than the same question without them
        int without = engine.chat(ChatRequest.builder().user("What is the weather in Paris?").sampling(TestModels.greedy(1)).build())
                .usage().promptTokens();
        assertThat(r.usage().promptTokens()).isGreaterThan(without + 50);
    }

    @Test
    void toolChoiceAuto_letsAStoryModelAnswerInText_andNoneLeavesTheToolsOut() {
        ChatRequest auto = ChatRequest.builder().user("Once upon a time").tool(WEATHER).sampling(TestModels.greedy(24)).build();
        ChatResult r = engine.chat(auto);
        assertThat(r.toolCalls()).isEmpty();
        assertThat(r.text()).isNotEmpty();
        assertThat(r.finishReason()).isIn(FinishReason.LENGTH, FinishReason.STOP);
        ChatResult none = engine.chat(ChatRequest.builder().user("Once upon a time").tool(WEATHER).toolChoice(ToolChoice.NONE)
                .sampling(TestModels.greedy(1)).build());
        assertThat(none.usage().promptTokens()).isLessThan(r.usage().promptTokens() - 50);
    }
}

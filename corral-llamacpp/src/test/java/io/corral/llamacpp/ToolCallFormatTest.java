package io.corral.llamacpp;

import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.Metrics;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.Usage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Tool calls as each model family writes them, read back; and an answer that may call a tool, streamed. */
class ToolCallFormatTest {

    @Test
    void eachFamilysCalls_areReadBack_andPlainTextIsText() {
        var hermes = ToolCallFormat.HERMES.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"CET\"}}\n</tool_call>");
        assertThat(hermes.content()).isEqualTo("Let me check.");
        assertThat(hermes.calls()).extracting(c -> c.name() + c.arguments())
                .containsExactly("get_weather{\"city\":\"Paris\"}", "get_time{\"zone\":\"CET\"}");
        assertThat(hermes.calls()).allSatisfy(c -> assertThat(c.id()).startsWith("call_"));

        var mistral = ToolCallFormat.MISTRAL.parse("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abc123def\"}]");
        assertThat(mistral.calls()).singleElement().satisfies(c -> {
            assertThat(c.id()).isEqualTo("abc123def");
            assertThat(c.arguments()).isEqualTo("{\"city\":\"Paris\"}");
        });
        var llama = ToolCallFormat.LLAMA3.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}");
        assertThat(llama.calls()).extracting(c -> c.name()).containsExactly("get_weather");
        assertThat(ToolCallFormat.LLAMA3.parse("<|python_tag|>{\"name\": \"x\", \"parameters\": {}}").calls()).hasSize(1);
        assertThat(ToolCallFormat.GENERIC.parse("```json\n{\"name\": \"x\", \"arguments\": {\"a\": 1}}\n```").calls())
                .singleElement().satisfies(c -> assertThat(c.arguments()).isEqualTo("{\"a\":1}"));

        for (var f : ToolCallFormat.values()) {
            assertThat(f.parse("Once upon a time").calls()).isEmpty();
            assertThat(f.parse("Once upon a time").content()).isEqualTo("Once upon a time");
        }
        assertThat(ToolCallFormat.HERMES.parse("<tool_call>{not json}</tool_call>").calls()).isEmpty(); // text after all
        assertThat(ToolCallFormat.of("...{{- '<tool_call>\\n' }}...")).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.of("{{ '[TOOL_CALLS]' }}")).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(ToolCallFormat.of("Environment: ipython")).isEqualTo(ToolCallFormat.LLAMA3);
    }

    /** A generation that hands out these pieces, then stops. */
    static TokenStream pieces(String... texts) {
        return new TokenStream() {
            int i;
            boolean finished;
            final StringBuilder all = new StringBuilder();

            public boolean hasNext() {
                return !finished;
            }

            public StreamEvent next() {
                if (i < texts.length) {
                    all.append(texts[i]);
                    return new StreamEvent.Text(texts[i++]);
                }
                finished = true;
                return new StreamEvent.Finish(FinishReason.STOP, new Usage(5, 0, texts.length));
            }

            public void cancel() {
            }

            public ChatResult result() {
                while (hasNext()) {
                    next();
                }
                return new ChatResult(all.toString(), List.of(), FinishReason.STOP, new Usage(5, 0, texts.length),
                        new Metrics("m", "p", Duration.ZERO, Duration.ZERO, 0));
            }

            public void close() {
            }
        };
    }

    @Test
    void anAnswerThatCallsATool_streamsItsTextThenTheCallsPieces_holdingBackOnlyWhatCouldStartTheMarker() {
        TokenStream s = ToolCalls.auto(pieces("Sure", ", checking <", "tool", "_call>\n{\"name\": \"get_weather\", ",
                "\"arguments\": {\"city\": ", "\"Paris\"}}\n</tool_call>"), ToolCallFormat.HERMES);
        List<StreamEvent> events = new ArrayList<>();
        s.forEachRemaining(events::add);
        assertThat(events.subList(0, 2)).containsExactly(new StreamEvent.Text("Sure"), new StreamEvent.Text(", checking "));
        List<StreamEvent.ToolCallDelta> deltas = events.stream().filter(e -> e instanceof StreamEvent.ToolCallDelta)
                .map(e -> (StreamEvent.ToolCallDelta) e).toList();
        assertThat(deltas.getFirst().name()).isEqualTo("get_weather");
        assertThat(deltas).hasSizeGreaterThanOrEqualTo(3); // the head, then the arguments as they came
        String joined = deltas.stream().map(StreamEvent.ToolCallDelta::arguments).reduce("", String::concat);
        assertThat(joined).isEqualTo("{\"city\": \"Paris\"}");
        assertThat(events.getLast()).isEqualTo(new StreamEvent.Finish(FinishReason.TOOL_CALLS, new Usage(5, 0, 6)));
        ChatResult r = s.result();
        assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
        assertThat(r.text()).isEqualTo("Sure, checking");
        assertThat(r.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.id()).isEqualTo(deltas.getFirst().id());
            assertThat(c.arguments()).isEqualTo(joined);
        });
    }

    @Test
    void mistralsListAndLlamasParameters_streamToo() {
        TokenStream m = ToolCalls.auto(pieces("[TOOL_CALLS]", " [{\"name\": \"x\", \"arguments\": {\"a\": 1}}]"), ToolCallFormat.MISTRAL);
        m.forEachRemaining(e -> { });
        assertThat(m.result().toolCalls()).singleElement().satisfies(c -> assertThat(c.arguments()).isEqualTo("{\"a\": 1}"));
        TokenStream l = ToolCalls.auto(pieces("{\"name\": \"x\", ", "\"parameters\": {\"a\": [1, 2]}}"), ToolCallFormat.LLAMA3);
        l.forEachRemaining(e -> { });
        assertThat(l.result().toolCalls()).singleElement().satisfies(c -> assertThat(c.arguments()).isEqualTo("{\"a\": [1, 2]}"));
    }

    @Test
    void anAnswerThatOnlyLooksLikeACall_isText() {
        TokenStream s = ToolCalls.auto(pieces("a < b", " and <tool", "box>"), ToolCallFormat.HERMES);
        StringBuilder text = new StringBuilder();
        s.forEachText(text::append);
        assertThat(text).hasToString("a < b and <toolbox>");
        assertThat(s.result().finishReason()).isEqualTo(FinishReason.STOP);
        TokenStream json = ToolCalls.auto(pieces("  {\"no\": ", "\"call\"}"), ToolCallFormat.GENERIC);
        StringBuilder t2 = new StringBuilder();
        json.forEachText(t2::append);
        assertThat(t2).hasToString("  {\"no\": \"call\"}");
        assertThat(json.result().toolCalls()).isEmpty();
    }
}

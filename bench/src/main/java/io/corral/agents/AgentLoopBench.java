package io.corral.agents;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.FinishReason;
import io.corral.api.Metrics;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.ToolCall;
import io.corral.api.Usage;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.storage.SqlKeyValueStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent loop's own cost per step, apart from the model's: responses over an instant model (its calls cost
 * microseconds) with their state in SQLite, each turn continuing the one before (previous_response_id) and every
 * other turn a client tool round trip; the model's own time measured alone is subtracted.
 *
 * <pre>bench/agents.sh</pre>
 */
public final class AgentLoopBench {

    /** Answers at once: a tool call when the last message is the user's asking for one, else a short text. */
    static final class InstantModel implements InferenceProvider {
        public TokenStream stream(ChatRequest r) {
            boolean call = !r.tools().isEmpty() && r.messages().getLast().text().contains("weather");
            ChatResult result = new ChatResult(call ? "" : "Sure.", call ? List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"))
                    : List.of(), call ? FinishReason.TOOL_CALLS : FinishReason.STOP, new Usage(10, 0, 2),
                    new Metrics("m", "instant", Duration.ZERO, Duration.ZERO, 0));
            List<StreamEvent> events = new ArrayList<>();
            if (!call) {
                events.add(new StreamEvent.Text("Sure."));
            }
            events.add(new StreamEvent.Finish(result.finishReason(), result.usage()));
            var it = events.iterator();
            return new TokenStream() {
                public boolean hasNext() { return it.hasNext(); }
                public StreamEvent next() { return it.next(); }
                public void cancel() { }
                public ChatResult result() { return result; }
                public void close() { }
            };
        }
        public TokenStream stream(CompletionRequest r) { throw new UnsupportedOperationException(); }
        public String id() { return "instant"; }
        public String type() { return "bench::instant"; }
        public String vendor() { return "bench"; }
        public Set<Capability> capabilities() { return Set.of(Capability.CHAT, Capability.TOOLS); }
        public List<ModelInfo> models() { return List.of(); }
        public void close() { }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("agent-bench");
        InstantModel model = new InstantModel();
        try (SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("state.db"), Clock.systemUTC())) {
            ResponsesService s = new ResponsesService(m -> model, null, null, kv, Clock.systemUTC());
            List<Object> tools = List.of(Map.of("type", "function", "name", "get_weather", "parameters", Map.of("type", "object")));
            int rounds = 3000;
            long[] step = new long[rounds];
            long[] modelAlone = new long[rounds];
            String previous = null;
            for (int i = 0; i < rounds + 500; i++) {
                boolean tool = i % 2 == 0;
                Map<String, Object> req = new java.util.LinkedHashMap<>();
                req.put("model", "m");
                req.put("input", tool ? "What is the weather in Paris?" : "Thanks.");
                req.put("tools", tools);
                if (previous != null && i % 10 != 0) {
                    req.put("previous_response_id", previous);
                }
                long t0 = System.nanoTime();
                Map<String, Object> r = s.create(null, req, null);
                long t1 = System.nanoTime();
                if (tool) { // the client answers its tool call: one more step
                    Map<?, ?> fc = (Map<?, ?>) ((List<?>) r.get("output")).getLast();
                    r = s.create(null, Map.of("model", "m", "previous_response_id", r.get("id"), "tools", tools,
                            "input", List.of(Map.of("type", "function_call_output", "call_id", fc.get("call_id"), "output", "{\"sky\":\"sunny\"}"))), null);
                }
                previous = String.valueOf(r.get("id"));
                long t2 = System.nanoTime();
                try (TokenStream ts = model.stream(ChatRequest.of("What is the weather in Paris?"))) {
                    ts.result();
                }
                long t3 = System.nanoTime();
                if (i >= 500) {
                    step[i - 500] = t1 - t0;
                    modelAlone[i - 500] = t3 - t2;
                }
            }
            Arrays.sort(step);
            Arrays.sort(modelAlone);
            System.out.printf("agent loop, one step (a stored response continuing a chain of up to 10, SQLite state), %d steps: "
                            + "p50 %.3f ms, p99 %.3f ms; the model alone p50 %.4f ms; overhead p50 %.3f ms%n", rounds,
                    step[rounds / 2] / 1e6, step[rounds * 99 / 100] / 1e6, modelAlone[rounds / 2] / 1e6,
                    (step[rounds / 2] - modelAlone[rounds / 2]) / 1e6);
        }
    }
}

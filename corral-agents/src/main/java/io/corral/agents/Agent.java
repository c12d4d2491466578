package io.corral.agents;

import io.corral.api.InvalidRequestException;
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.Responses;
import io.corral.spi.VectorStores;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An agent in the library, in the spirit of Llama Stack's client-side {@code Agent}: a model, instructions, tools
 * (Java functions with JSON-Schema parameters, run here when the model calls them; knowledge search over vector
 * stores), guardrails, and sessions of turns. It runs the same loop as the server's Responses API, in-process:
 * a turn is a response; the model's calls of Java tools are answered and the response continued until the model
 * answers.
 *
 * <pre>{@code
 * Agent agent = Agent.builder(model, "llama3.2:3b").instructions("You are a travel assistant.")
 *         .tool("get_weather", "The weather in a city", "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}",
 *               args -> "{\"sky\":\"sunny\"}")
 *         .build();
 * Agent.Session s = agent.session();
 * System.out.println(s.turn("Weather in Paris?").text());
 * }</pre>
 */
public final class Agent {

    /** A tool the agent runs: its JSON arguments in, its result (text, often JSON) out. */
    public record Tool(String name, String description, String parameters, Function<String, String> run) {
        public Tool {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(run, "run");
        }
    }

    /** One turn's outcome: the answer's text, the tool calls made on the way, the response's items and usage. */
    public record Turn(String text, List<String> toolCalls, Map<String, Object> response) {
    }

    private final Responses responses;
    private final String model;
    private final String instructions;
    private final Map<String, Tool> tools;
    private final List<String> storeIds;
    private final List<String> guardrails;
    private final int maxInferIters;

    private Agent(Builder b) {
        this.responses = b.responses != null ? b.responses
                : new ResponsesService(id -> b.provider, b.stores, b.guardrail, b.state != null ? b.state : new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC());
        this.model = b.model;
        this.instructions = b.instructions;
        this.tools = new LinkedHashMap<>(b.tools);
        this.storeIds = List.copyOf(b.storeIds);
        this.guardrails = List.copyOf(b.guardrails);
        this.maxInferIters = b.maxInferIters;
    }

    /** An agent over {@code model} served by {@code provider}, run in this process. */
    public static Builder builder(InferenceProvider provider, String model) {
        return new Builder(null, provider, model);
    }

    /** An agent over a Responses service (the server's, or one made for several agents). */
    public static Builder builder(Responses responses, String model) {
        return new Builder(responses, null, model);
    }

    /** A new session: turns that follow one another. */
    public Session session() {
        return new Session();
    }

    /** A conversation with the agent: each turn continues the one before. */
    public final class Session {
        private String last;

        private Session() {
        }

        /** A turn, whole. */
        public Turn turn(String userText) {
            return turn(userText, null);
        }

        /** A turn whose answer's text is handed to {@code onText} as the model writes it (null: not streamed). */
        public Turn turn(String userText, Consumer<String> onText) {
            List<Map<String, Object>> input = List.of(Map.of("type", "message", "role", "user", "content", userText));
            List<String> calls = new ArrayList<>();
            for (int round = 0; ; round++) {
                if (round > maxInferIters) {
                    throw new InvalidRequestException("max_infer_iters", "the agent called its tools " + round + " times without answering");
                }
                Map<String, Object> response = responses.create(null, request(input), onText == null ? null : (type, event) -> {
                    if (type.equals("response.output_text.delta")) {
                        onText.accept(String.valueOf(event.get("delta")));
                    }
                });
                last = String.valueOf(response.get("id"));
                List<Map<String, Object>> outputs = new ArrayList<>();
                for (Object o : (List<?>) response.get("output")) {
                    if (o instanceof Map<?, ?> item && "function_call".equals(item.get("type"))) {
                        String name = String.valueOf(item.get("name"));
                        calls.add(name);
                        Tool tool = tools.get(name);
                        String result;
                        try {
                            result = tool == null ? "{\"error\":\"no tool named " + name + "\"}" : tool.run().apply(String.valueOf(item.get("arguments")));
                        } catch (RuntimeException e) { // a tool's failure is the model's to read, not the turn's end
                            result = "{\"error\":" + Json.text(Json.MAPPER.getNodeFactory().textNode(String.valueOf(e.getMessage()))) + "}";
                        }
                        outputs.add(Map.of("type", "function_call_output", "call_id", String.valueOf(item.get("call_id")), "output", result));
                    }
                }
                if (outputs.isEmpty()) {
                    return new Turn(text(response), List.copyOf(calls), response);
                }
                input = outputs;
            }
        }

        private Map<String, Object> request(List<Map<String, Object>> input) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("model", model);
            r.put("input", input);
            if (instructions != null) {
                r.put("instructions", instructions);
            }
            if (last != null) {
                r.put("previous_response_id", last);
            }
            List<Object> specs = new ArrayList<>();
            tools.values().forEach(t -> {
                Map<String, Object> spec = new LinkedHashMap<>();
                spec.put("type", "function");
                spec.put("name", t.name());
                spec.put("description", t.description());
                spec.put("parameters", t.parameters() == null ? Map.of("type", "object") : Json.MAPPER.convertValue(Json.parse(t.parameters()), Map.class));
                specs.add(spec);
            });
            if (!storeIds.isEmpty()) {
                specs.add(Map.of("type", "file_search", "vector_store_ids", storeIds));
            }
            if (!specs.isEmpty()) {
                r.put("tools", specs);
            }
            if (!guardrails.isEmpty()) {
                r.put("guardrails", guardrails);
            }
            r.put("max_infer_iters", maxInferIters);
            return r;
        }
    }

    private static String text(Map<String, Object> response) {
        StringBuilder b = new StringBuilder();
        for (Object o : (List<?>) response.get("output")) {
            if (o instanceof Map<?, ?> item && "message".equals(item.get("type"))) {
                for (Object p : (List<?>) item.get("content")) {
                    if (p instanceof Map<?, ?> part) {
                        Object t = part.get("text") != null ? part.get("text") : part.get("refusal");
                        b.append(t == null ? "" : t);
                    }
                }
            }
        }
        return b.toString();
    }

    public static final class Builder {
        private final Responses responses;
        private final InferenceProvider provider;
        private final String model;
        private String instructions;
        private final Map<String, Tool> tools = new LinkedHashMap<>();
        private final List<String> storeIds = new ArrayList<>();
        private final List<String> guardrails = new ArrayList<>();
        private VectorStores stores;
        private Guardrail guardrail = Guardrail.NONE;
        private KeyValueStore state;
        private int maxInferIters = ResponsesService.MAX_INFER_ITERS;

        private Builder(Responses responses, InferenceProvider provider, String model) {
            this.responses = responses;
            this.provider = provider;
            this.model = Objects.requireNonNull(model, "model");
        }

        public Builder instructions(String text) {
            instructions = text;
            return this;
        }

        /** A Java tool: {@code parameters} a JSON Schema (JSON text) of its arguments; {@code run} gets them as JSON. */
        public Builder tool(String name, String description, String parameters, Function<String, String> run) {
            if (tools.put(name, new Tool(name, description, parameters, run)) != null) {
                throw new IllegalStateException("tool " + name + " was given already");
            }
            return this;
        }

        /** Knowledge search over these vector stores of {@code vectorStores} (in-process agents). */
        public Builder knowledge(VectorStores vectorStores, List<String> ids) {
            stores = vectorStores;
            storeIds.addAll(ids);
            return this;
        }

        /** Shields of {@code g} run on each turn's input and output. */
        public Builder guardrails(Guardrail g, List<String> shieldIds) {
            guardrail = Objects.requireNonNull(g);
            guardrails.addAll(shieldIds);
            return this;
        }

        /** Where an in-process agent keeps its responses (default: memory). */
        public Builder state(KeyValueStore s) {
            state = s;
            return this;
        }

        public Builder maxInferIters(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInferIters must be at least 1, was " + n);
            }
            maxInferIters = n;
            return this;
        }

        public Agent build() {
            if (responses == null && provider == null) {
                throw new IllegalStateException("an agent needs a model provider or a Responses service");
            }
            return new Agent(this);
        }
    }
}

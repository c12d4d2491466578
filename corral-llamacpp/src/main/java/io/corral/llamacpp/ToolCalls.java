package io.corral.llamacpp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.TokenStream;

import java.io.IOException;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Forced tool calls ({@code tool_choice} required or named): the answer is constrained by grammar to
 * {@code {"name": <one of the tools>, "arguments": <that tool's JSON Schema>}}, streamed as tool-call pieces
 * and returned as a {@link ToolCall} with finish reason {@code tool_calls}.
 */
final class ToolCalls {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ToolCalls() {
    }

    /** The JSON Schema of the call the request forces. */
    static String schema(ChatRequest request) {
        List<ToolSpec> allowed = request.toolChoice() instanceof ToolChoice.Named n
                ? request.tools().stream().filter(t -> t.name().equals(n.name())).toList()
                : request.tools();
        ArrayNode alternatives = JSON.createArrayNode();
        for (ToolSpec t : allowed) {
            ObjectNode call = alternatives.addObject().put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", t.name());
            try {
                props.set("arguments", JSON.readTree(t.parameters()));
            } catch (IOException e) {
                throw new io.corral.api.InvalidRequestException("tools", "parameters of tool " + t.name() + " are not valid JSON");
            }
            call.putArray("required").add("name").add("arguments");
        }
        return (alternatives.size() == 1 ? alternatives.get(0) : JSON.createObjectNode().set("anyOf", alternatives)).toString();
    }

    /** Wraps a generation of a forced call: its JSON streamed as tool-call pieces, the call in the result. */
    static TokenStream stream(TokenStream generation) {
        return new ForcedCall(generation);
    }

    /**
     * A forced call as it is generated: {@code {"name": "...", "arguments": {...}}} (the grammar's order) read
     * as it comes; once the name is complete a piece with id and name goes out, then each fragment of the
     * arguments object as the model writes it.
     */
    private static final class ForcedCall implements TokenStream {
        private static final Pattern HEAD = Pattern.compile("^\\s*\\{\\s*\"name\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\")\\s*,\\s*\"arguments\"\\s*:\\s*");

        private final TokenStream generation;
        private final String id = "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        private final StringBuilder text = new StringBuilder();
        private final StringBuilder arguments = new StringBuilder();
        private String name;
        private final java.util.ArrayDeque<StreamEvent> ready = new java.util.ArrayDeque<>();
        private int scanned;       // the text up to here has been looked at
        private boolean named;     // the head (id, name) has gone out
        private boolean complete;  // the arguments object has closed
        private int depth;
        private boolean inString;
        private boolean escaped;

        ForcedCall(TokenStream generation) {
            this.generation = generation;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && generation.hasNext()) {
                StreamEvent e = generation.next();
                if (e instanceof StreamEvent.Text t) {
                    text.append(t.text());
                    scan();
                } else if (e instanceof StreamEvent.Finish f) {
                    ready.add(new StreamEvent.Finish(f.reason() == FinishReason.STOP && complete ? FinishReason.TOOL_CALLS
                            : f.reason(), f.usage()));
                }
            }
            return !ready.isEmpty();
        }

        @Override
        public StreamEvent next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException("generation has ended");
            }
            return ready.poll();
        }

        /** Turns new text into pieces: the head once the name is known, then argument fragments. */
        private void scan() {
            if (!named) {
                Matcher m = HEAD.matcher(text);
                if (!m.find()) {
                    return;
                }
                try {
                    name = JSON.readValue(m.group(1), String.class);
                } catch (IOException e) {
                    name = m.group(1);
                }
                named = true;
                scanned = m.end();
                ready.add(new StreamEvent.ToolCallDelta(0, id, name, ""));
            }
            if (complete) {
                return;
            }
            int from = scanned;
            while (scanned < text.length() && !complete) {
                char c = text.charAt(scanned++);
                if (depth == 0 && Character.isWhitespace(c)) {
                    from = scanned; // before the arguments object opens
                } else if (inString) {
                    if (escaped) {
                        escaped = false;
                    } else if (c == '\\') {
                        escaped = true;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                    complete = true;
                }
            }
            if (scanned > from) {
                String piece = text.substring(from, scanned);
                arguments.append(piece);
                ready.add(new StreamEvent.ToolCallDelta(0, null, null, piece));
            }
        }

        @Override
        public void cancel() {
            generation.cancel();
        }

        @Override
        public ChatResult result() {
            while (hasNext()) {
                next();
            }
            ChatResult r = generation.result();
            if (r.finishReason() != FinishReason.STOP || !complete) {
                return r; // cut short (max_tokens, cancelled): no complete call to report
            }
            // the arguments as streamed, so the pieces joined are the call's arguments
            return new ChatResult("", List.of(new ToolCall(id, name, arguments.toString())), FinishReason.TOOL_CALLS,
                    r.usage(), r.metrics(), r.logprobs());
        }

        @Override
        public void close() {
            generation.close();
        }
    }
}

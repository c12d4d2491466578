package io.corral.llamacpp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.ChatRequest;
import io.corral.llamacpp.grammar.JsonSchemaGrammar;
import io.corral.api.ChatResult;
import io.corral.api.FinishReason;
import io.corral.api.StreamEvent;
import io.corral.api.ToolCall;
import io.corral.api.ToolChoice;
import io.corral.api.ToolSpec;
import io.corral.api.TokenStream;

import java.io.IOException;
import java.util.List;
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
        return schema(allowed, "arguments");
    }

    /**
     * The grammar of one call in {@code format}, starting at its marker, for a lazy grammar: free text until the
     * model starts a call ({@link ToolCallFormat#triggerPattern()}), then nothing but a well-formed call of one of
     * the tools, with arguments that fit its schema.
     */
    static String lazyGrammar(List<ToolSpec> tools, ToolCallFormat format) {
        String call = JsonSchemaGrammar.fromSchema(schema(tools, format == ToolCallFormat.LLAMA3 ? "parameters" : "arguments"))
                .replaceFirst("(?m)^root ::=", "call ::=");
        String ws = "[ \\t\\n]*";
        String root = switch (format) {
            case HERMES -> "root ::= \"<tool_call>\" " + ws + " call " + ws + " \"</tool_call>\"";
            case MISTRAL -> "root ::= \"[TOOL_CALLS]\" " + ws + " \"[\" " + ws + " call " + ws + " \"]\"";
            case LLAMA3, GENERIC -> "root ::= call";
        };
        return root + "\n" + call;
    }

    private static String schema(List<ToolSpec> allowed, String argumentsKey) {
        ArrayNode alternatives = JSON.createArrayNode();
        for (ToolSpec t : allowed) {
            ObjectNode call = alternatives.addObject().put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", t.name());
            try {
                props.set(argumentsKey, JSON.readTree(t.parameters()));
            } catch (IOException e) {
                throw new io.corral.api.InvalidRequestException("tools", "parameters of tool " + t.name() + " are not valid JSON");
            }
            call.putArray("required").add("name").add(argumentsKey);
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
    /**
     * Reads one call as it is written, {@code {"name": "...", "arguments": {...}}} (or {@code "parameters"}, as
     * Llama 3 writes it; a {@code [} before it, as Mistral's list has): once the name is complete a piece with
     * id and name, then each fragment of the arguments object as it comes.
     */
    static final class CallScanner {
        private static final Pattern HEAD = Pattern.compile(
                "^\\s*(?:\\[\\s*)?\\{\\s*\"name\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\")\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*");

        private final String id = ToolCallFormat.newId();
        private final StringBuilder text = new StringBuilder();
        private final StringBuilder arguments = new StringBuilder();
        private String name;
        private int scanned;       // the text up to here has been looked at
        private boolean complete;  // the arguments object has closed
        private int depth;
        private boolean inString;
        private boolean escaped;

        /** The pieces that {@code more} text completes. */
        List<StreamEvent.ToolCallDelta> feed(String more) {
            text.append(more);
            List<StreamEvent.ToolCallDelta> out = new java.util.ArrayList<>();
            if (name == null) {
                Matcher m = HEAD.matcher(text);
                if (!m.find()) {
                    return out;
                }
                try {
                    name = JSON.readValue(m.group(1), String.class);
                } catch (IOException e) {
                    name = m.group(1);
                }
                scanned = m.end();
                out.add(new StreamEvent.ToolCallDelta(0, id, name, ""));
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
                out.add(new StreamEvent.ToolCallDelta(0, null, null, piece));
            }
            return out;
        }

        boolean started() {
            return name != null;
        }

        boolean complete() {
            return complete;
        }

        /** The call, its arguments as streamed (so the pieces joined are the call's arguments). */
        ToolCall call() {
            return new ToolCall(id, name, arguments.toString());
        }
    }

    /** A generation's events, turned into others one by one as they arrive ({@link #pull}), read in order. */
    private abstract static class Rewritten implements TokenStream {
        final TokenStream generation;
        final java.util.ArrayDeque<StreamEvent> ready = new java.util.ArrayDeque<>();

        Rewritten(TokenStream generation) {
            this.generation = generation;
        }

        /** What {@code e} becomes: added to {@link #ready}. */
        abstract void pull(StreamEvent e);

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && generation.hasNext()) {
                pull(generation.next());
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

        @Override
        public void cancel() {
            generation.cancel();
        }

        @Override
        public void close() {
            generation.close();
        }
    }

    private static final class ForcedCall extends Rewritten {
        private final CallScanner scanner = new CallScanner();

        ForcedCall(TokenStream generation) {
            super(generation);
        }

        @Override
        void pull(StreamEvent e) {
            if (e instanceof StreamEvent.Text t) {
                ready.addAll(scanner.feed(t.text()));
            } else if (e instanceof StreamEvent.Finish f) {
                ready.add(new StreamEvent.Finish(f.reason() == FinishReason.STOP && scanner.complete() ? FinishReason.TOOL_CALLS
                        : f.reason(), f.usage()));
            }
        }

        @Override
        public ChatResult result() {
            while (hasNext()) {
                next();
            }
            ChatResult r = generation.result();
            if (r.finishReason() != FinishReason.STOP || !scanner.complete()) {
                return r; // cut short (max_tokens, cancelled): no complete call to report
            }
            return new ChatResult("", List.of(scanner.call()), FinishReason.TOOL_CALLS, r.usage(), r.metrics(), r.logprobs());
        }
    }

    /**
     * Wraps a generation that may call a tool ({@code tool_choice} auto): text streams as it comes until the
     * model's format shows a call starting ({@code <tool_call>}, {@code [TOOL_CALLS]}, a JSON answer), holding
     * back only what could be the start of that marker; from there the answer is read whole and its calls go
     * out as tool-call pieces, finishing with {@code tool_calls}. What turns out not to be a call is text.
     */
    static TokenStream auto(TokenStream generation, ToolCallFormat format) {
        return new AutoCall(generation, format);
    }

    private static final class AutoCall extends Rewritten {
        private final ToolCallFormat format;
        private final StringBuilder text = new StringBuilder();
        private final List<io.corral.api.TokenLogprob> heldLogprobs = new java.util.ArrayList<>();
        private int emitted;         // text[0, emitted) has gone out
        private boolean inCall;
        private int callStart;       // where the call's JSON begins (after the format's marker)
        private final CallScanner scanner = new CallScanner();
        private ToolCallFormat.Parsed parsed;

        AutoCall(TokenStream generation, ToolCallFormat format) {
            super(generation);
            this.format = format;
        }

        @Override
        void pull(StreamEvent e) {
                if (e instanceof StreamEvent.Text t) {
                    text.append(t.text());
                    heldLogprobs.addAll(t.logprobs());
                    if (!inCall) {
                        int at = format.start(text.toString());
                        if (at >= 0) {
                            inCall = true;
                            emit(at);
                            callStart = at + (format.trigger != null && text.indexOf(format.trigger, at) == at ? format.trigger.length() : 0);
                            ready.addAll(scanner.feed(text.substring(callStart)));
                        } else {
                            emit(text.length() - holdBack());
                        }
                    } else {
                        ready.addAll(scanner.feed(t.text()));
                    }
                } else if (e instanceof StreamEvent.Finish f) {
                    FinishReason reason = f.reason();
                    if (inCall && scanner.complete()) { // streamed as it was written
                        parsed = new ToolCallFormat.Parsed(text.substring(0, emitted).strip(), List.of(scanner.call()));
                        reason = f.reason() == FinishReason.STOP ? FinishReason.TOOL_CALLS : f.reason();
                    } else if (inCall && !scanner.started()) { // not in the streamed shape: read the whole answer
                        parsed = format.parse(text.toString());
                        if (!parsed.calls().isEmpty()) {
                            for (int i = 0; i < parsed.calls().size(); i++) {
                                ToolCall c = parsed.calls().get(i);
                                ready.add(new StreamEvent.ToolCallDelta(i, c.id(), c.name(), c.arguments()));
                            }
                            reason = f.reason() == FinishReason.STOP ? FinishReason.TOOL_CALLS : f.reason();
                        } else {
                            emit(text.length());
                        }
                    } else if (!inCall) {
                        emit(text.length());
                    }
                    ready.add(new StreamEvent.Finish(reason, f.usage()));
                }
        }

        /** Sends text[emitted, upTo) (never part of a call). */
        private void emit(int upTo) {
            if (upTo > emitted) {
                ready.add(new StreamEvent.Text(text.substring(emitted, upTo), List.copyOf(heldLogprobs)));
                heldLogprobs.clear();
                emitted = upTo;
            }
        }

        /** How much of the text's end could still become a call's start marker. */
        private int holdBack() {
            if (format.trigger == null || format == ToolCallFormat.LLAMA3) {
                if (text.toString().isBlank()) {
                    return text.length(); // an answer that starts with '{' is a call: wait for its first character
                }
                if (format.trigger == null) {
                    return 0;
                }
            }
            String t = format.trigger;
            for (int n = Math.min(t.length() - 1, text.length()); n > 0; n--) {
                if (text.substring(text.length() - n).equals(t.substring(0, n))) {
                    return n;
                }
            }
            return 0;
        }

        @Override
        public ChatResult result() {
            while (hasNext()) {
                next();
            }
            ChatResult r = generation.result();
            if (parsed == null || parsed.calls().isEmpty()) {
                return r;
            }
            return new ChatResult(parsed.content(), parsed.calls(),
                    r.finishReason() == FinishReason.STOP ? FinishReason.TOOL_CALLS : r.finishReason(), r.usage(), r.metrics(), r.logprobs());
        }
    }
}

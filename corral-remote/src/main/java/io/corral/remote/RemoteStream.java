package io.corral.remote;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.api.ChatResult;
import io.corral.api.EngineException;
import io.corral.api.FinishReason;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.Metrics;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.ToolCall;
import io.corral.api.UnavailableException;
import io.corral.api.Usage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * An upstream SSE stream read on the caller's thread: each {@link #hasNext()} reads events until one
 * carries text or a tool-call piece (passed on as the host split it), then the finish. Tolerates missing {@code [DONE]}, empty {@code tool_calls}, extra fields such as
 * {@code reasoning_content}, and keep-alive comments. A silence longer than the idle timeout, a cut
 * connection, or a malformed frame ends it with an error; a cut after text was sent is reported, never
 * hidden.
 */
final class RemoteStream implements TokenStream {

    private final InputStream body;
    private final SseReader reader;
    private final String model;
    private final String provider;
    private final boolean completion;
    private final long startNanos;
    private final Duration idle;
    private final StringBuilder text = new StringBuilder();
    private final TreeMap<Integer, String[]> toolCalls = new TreeMap<>(); // index -> id, name, arguments
    private final ArrayDeque<StreamEvent> ready = new ArrayDeque<>();
    private FinishReason finish;
    private boolean finishSent;
    private boolean ended;
    private volatile boolean cancelled;
    private Usage usage;
    private int pieces;
    private int events;
    private long firstNanos;
    private long endNanos;

    RemoteStream(InputStream body, String model, String provider, boolean completion, long startNanos, Duration idle) {
        this.body = body;
        this.reader = new SseReader(new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8)));
        this.model = model;
        this.provider = provider;
        this.completion = completion;
        this.startNanos = startNanos;
        this.idle = idle;
    }

    @Override
    public synchronized boolean hasNext() {
        while (ready.isEmpty() && !ended) {
            read();
        }
        if (ready.isEmpty() && !finishSent) {
            finishSent = true;
            ready.add(new StreamEvent.Finish(finish == null ? FinishReason.CANCELLED : finish, usage()));
        }
        return !ready.isEmpty();
    }

    /** Returns once the host has sent its first event (or the stream failed or ended). */
    @Override
    public synchronized void awaitStart() {
        while (events == 0 && ready.isEmpty() && !ended) {
            read();
        }
    }

    @Override
    public synchronized StreamEvent next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.poll();
    }

    private void read() {
        String data;
        try {
            data = reader.next(); // the transport's idle timeout bounds the wait
        } catch (IOException e) {
            end();
            if (cancelled) {
                finish = FinishReason.CANCELLED;
                return;
            }
            if (e instanceof java.net.SocketTimeoutException) {
                throw new InferenceTimeoutException("upstream " + provider + " went silent for longer than "
                        + idle.toMillis() / 1000.0 + " s" + after());
            }
            throw new UnavailableException("upstream " + provider + " cut the stream" + after() + ": " + e.getMessage(), e);
        }
        if (data == null || data.equals(SseReader.DONE)) {
            end();
            if (finish == null && !cancelled) {
                throw new UnavailableException("upstream " + provider + " ended the stream without finishing" + after());
            }
            if (cancelled) {
                finish = FinishReason.CANCELLED;
            }
            return;
        }
        events++;
        JsonNode chunk;
        try {
            chunk = WireFormat.JSON.readTree(data);
        } catch (IOException e) {
            end();
            throw new EngineException("upstream " + provider + " sent a malformed frame" + after() + ": "
                    + data.substring(0, Math.min(80, data.length())));
        }
        if (chunk.has("error")) {
            end();
            throw new UnavailableException("upstream " + provider + " failed" + after() + ": "
                    + chunk.path("error").path("message").asText(chunk.get("error").toString()));
        }
        if (chunk.hasNonNull("usage")) {
            JsonNode u = chunk.get("usage");
            usage = new Usage(u.path("prompt_tokens").asInt(), u.path("prompt_tokens_details").path("cached_tokens").asInt(),
                    u.path("completion_tokens").asInt());
        }
        for (JsonNode choice : chunk.path("choices")) {
            String piece = completion ? choice.path("text").asText("") : choice.path("delta").path("content").asText("");
            if (!piece.isEmpty()) {
                began();
                text.append(piece);
                ready.add(new StreamEvent.Text(piece));
            }
            for (JsonNode call : choice.path("delta").path("tool_calls")) { // an empty array is fine
                int index = call.path("index").asInt(toolCalls.size());
                String[] c = toolCalls.computeIfAbsent(index, k -> new String[]{"", "", ""});
                JsonNode fn = call.path("function");
                String id = call.path("id").asText("");
                String name = fn.path("name").asText("");
                String arguments = fn.path("arguments").asText("");
                c[0] += id;
                c[1] += name;
                c[2] += arguments;
                began();
                ready.add(new StreamEvent.ToolCallDelta(index, id.isEmpty() ? null : id, name.isEmpty() ? null : name, arguments));
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = finishReason(choice.get("finish_reason").asText());
            }
        }
    }

    static FinishReason finishReason(String wire) {
        return switch (wire) {
            case "length" -> FinishReason.LENGTH;
            case "tool_calls" -> FinishReason.TOOL_CALLS;
            case "content_filter" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP;
        };
    }

    private void began() {
        if (pieces++ == 0) {
            firstNanos = System.nanoTime();
        }
    }

    private Usage usage() {
        return usage != null ? usage : new Usage(0, 0, pieces);
    }

    private String after() {
        return pieces == 0 ? " before the first token" : " after " + pieces + " pieces";
    }

    /** Whether any text has been handed out (then a failure must not be retried elsewhere). */
    synchronized boolean started() {
        return pieces > 0;
    }

    private void end() {
        if (!ended) {
            ended = true;
            endNanos = System.nanoTime();
            try {
                body.close();
            } catch (IOException ignored) {
                // the connection is gone either way
            }
        }
    }

    private void abort() {
        try {
            body.close();
        } catch (IOException ignored) {
            // closing is the point
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        abort();
    }

    @Override
    public synchronized ChatResult result() {
        while (hasNext()) {
            next();
        }
        List<ToolCall> calls = new ArrayList<>();
        toolCalls.values().forEach(c -> calls.add(new ToolCall(c[0], c[1], c[2].isEmpty() ? "{}" : c[2])));
        Usage u = usage();
        double seconds = (endNanos - firstNanos) / 1e9;
        double tps = u.completionTokens() > 1 && seconds > 0 ? (u.completionTokens() - 1) / seconds : 0;
        return new ChatResult(text.toString(), calls, finish == null ? FinishReason.CANCELLED : finish, u,
                new Metrics(model, provider, Duration.ofNanos(endNanos - startNanos),
                        Duration.ofNanos((pieces > 0 ? firstNanos : endNanos) - startNanos), tps));
    }

    @Override
    public void close() {
        if (!ended) {
            cancel();
            synchronized (this) {
                end();
                if (finish == null) {
                    finish = FinishReason.CANCELLED;
                }
            }
        }
    }
}

package io.corral.safety.llamaguard;

import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.FinishReason;
import io.corral.api.Metrics;
import io.corral.api.StreamEvent;
import io.corral.api.TokenStream;
import io.corral.api.Usage;
import io.corral.spi.Capability;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ModelInfo;
import io.corral.spi.SafetyProvider;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A scripted Llama Guard: reads the last turn of the prompt it is given and answers with {@code verdict} of it;
 * records the prompts, and whether each call was made as a shield's ({@link SafetyProvider#GUARD_CALL}).
 */
final class GuardModel implements InferenceProvider {

    final List<String> prompts = new CopyOnWriteArrayList<>();
    final List<Boolean> guardCalls = new CopyOnWriteArrayList<>();
    private final Function<String, String> verdict;

    GuardModel(Function<String, String> verdict) {
        this.verdict = verdict;
    }

    /** Unsafe (S1) when the last turn speaks of a bomb, (S1, S10) of hating a group; safe otherwise. */
    static GuardModel keywords() {
        return new GuardModel(turn -> turn.contains("bomb") ? "unsafe\nS1" : turn.contains("hate them") ? "unsafe\nS1,S10" : "safe");
    }

    /** The last {@code User:}/{@code Agent:} turn of a Llama Guard prompt. */
    static String lastTurn(String prompt) {
        int end = prompt.indexOf("<END CONVERSATION>");
        String conversation = prompt.substring(prompt.indexOf("<BEGIN CONVERSATION>"), end);
        int at = Math.max(conversation.lastIndexOf("\nUser: "), conversation.lastIndexOf("\nAgent: "));
        return conversation.substring(at);
    }

    private ChatResult answer(String prompt) {
        prompts.add(prompt);
        guardCalls.add(SafetyProvider.GUARD_CALL.isBound());
        return new ChatResult(verdict.apply(lastTurn(prompt)), List.of(), FinishReason.STOP, new Usage(10, 0, 2),
                new Metrics("guard", "guard", java.time.Duration.ZERO, java.time.Duration.ZERO, 0));
    }

    @Override
    public ChatResult chat(ChatRequest request) {
        return answer(request.messages().getLast().text());
    }

    @Override
    public ChatResult complete(CompletionRequest request) {
        return answer(request.prompt());
    }

    @Override
    public TokenStream stream(ChatRequest request) {
        throw new UnsupportedOperationException();
    }

    @Override
    public TokenStream stream(CompletionRequest request) {
        throw new UnsupportedOperationException();
    }

    @Override
    public String id() {
        return "guard";
    }

    @Override
    public String type() {
        return "test::guard";
    }

    @Override
    public String vendor() {
        return "test";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.CHAT);
    }

    @Override
    public List<ModelInfo> models() {
        return List.of();
    }

    @Override
    public void close() {
    }
}

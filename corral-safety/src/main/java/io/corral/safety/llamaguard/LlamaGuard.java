package io.corral.safety.llamaguard;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.CompletionRequest;
import io.corral.api.CorralException;
import io.corral.api.InvalidRequestException;
import io.corral.api.SamplingParams;
import io.corral.spi.InferenceProvider;
import io.corral.spi.SafetyProvider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * {@code safety: inline::llama-guard}: any model Corral serves (in-process or remote), named by a shield's
 * {@code provider_shield_id}, used as Llama Guard 3 or 4 with its published prompt ({@link LlamaGuardPrompt}),
 * greedy and short. The verdict is read strictly: {@code safe}, or {@code unsafe} and a line of category codes among
 * those offered. Anything else, or a model that cannot be reached, is an error handled by {@code on_error}: blocked
 * (the default: fail closed) or let through.
 */
public final class LlamaGuard implements SafetyProvider {

    /** What a user is told when Llama Guard finds a hazard (Llama Stack's words). */
    public static final String CANNED = "I can't answer that. Can I help with something else?";

    /**
     * @param excludedCategories codes not offered and not acted on (e.g. {@code [S6, S8]})
     * @param onError            {@code block} (default) or {@code allow}: what an unreadable verdict or a failed call means
     * @param format             {@code completion} (default: the whole prompt, chat headers included, as a raw prompt)
     *                           or {@code chat} (the prompt's text as one user message, the host's template adding the
     *                           headers: for hosts whose completions apply a template, as Ollama's)
     */
    public record Config(List<String> excludedCategories, String onError, String format) {
        public Config {
            excludedCategories = excludedCategories == null ? List.of() : List.copyOf(excludedCategories);
            for (String c : excludedCategories) {
                if (!LlamaGuardPrompt.CATEGORIES.containsKey(c)) {
                    throw new InvalidRequestException("excluded_categories", "unknown category '" + c + "' (expected S1 to S14)");
                }
            }
            onError = onError == null ? "block" : onError;
            if (!onError.equals("block") && !onError.equals("allow")) {
                throw new InvalidRequestException("on_error", "on_error must be block or allow");
            }
            format = format == null ? "completion" : format;
            if (!format.equals("completion") && !format.equals("chat")) {
                throw new InvalidRequestException("format", "format must be completion or chat");
            }
        }
    }

    private static final Pattern CODES = Pattern.compile("S\\d{1,2}(?:\\s*,\\s*S\\d{1,2})*");
    private static final System.Logger LOG = System.getLogger("corral.safety");

    private final String id;
    private final Config config;
    private final Function<String, InferenceProvider> models;

    public LlamaGuard(String id, Config config, Function<String, InferenceProvider> models) {
        this.id = id;
        this.config = config == null ? new Config(null, null, null) : config;
        this.models = models;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return LlamaGuardFactory.TYPE;
    }

    @Override
    public void register(Shield shield) {
        if (shield.providerShieldId() == null || shield.providerShieldId().isBlank()) {
            throw new InvalidRequestException("provider_shield_id", "a Llama Guard shield names its model in provider_shield_id");
        }
    }

    @Override
    public Optional<Violation> run(Shield shield, List<ChatMessage> messages, Map<String, Object> params) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must not be empty");
        }
        String model = shield.providerShieldId() == null ? shield.id() : shield.providerShieldId();
        LlamaGuardPrompt.Version version = LlamaGuardPrompt.Version.of(model);
        Set<String> excluded = new LinkedHashSet<>(config.excludedCategories());
        List<String> offered = LlamaGuardPrompt.offered(version, excluded);
        String answer;
        try {
            answer = ask(model, version, offered, messages);
        } catch (InvalidRequestException e) {
            throw e;
        } catch (CorralException e) {
            return unchecked(shield, "the guard model " + model + " failed: " + e.getMessage(), null);
        }
        Verdict v = Verdict.parse(answer, LlamaGuardPrompt.offered(version, Set.of()));
        if (v == null) {
            return unchecked(shield, "the guard model " + model + " answered neither 'safe' nor 'unsafe' and categories", answer);
        }
        List<String> codes = v.codes().stream().filter(c -> !excluded.contains(c)).toList();
        if (codes.isEmpty()) {
            return Optional.empty();
        }
        Set<String> categories = new LinkedHashSet<>();
        codes.forEach(c -> categories.addAll(LlamaGuardPrompt.OPENAI_NAMES.get(c)));
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("violation_type", String.join(",", codes));
        metadata.put("categories", List.copyOf(categories));
        metadata.put("hazards", codes.stream().map(c -> c + ": " + LlamaGuardPrompt.CATEGORIES.get(c)).toList());
        return Optional.of(new Violation(Violation.Level.ERROR, CANNED, List.copyOf(categories), metadata));
    }

    /** Asks the guard model, greedily, for a verdict of a few tokens, on capacity of its own ({@link #GUARD_CALL}). */
    private String ask(String model, LlamaGuardPrompt.Version version, List<String> offered, List<ChatMessage> messages) {
        InferenceProvider provider = models.apply(model);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(20).build();
        ChatResult r = ScopedValue.where(GUARD_CALL, true).call(() -> config.format().equals("chat")
                ? provider.chat(new ChatRequest(model, List.of(ChatMessage.user(LlamaGuardPrompt.body(offered, messages))), greedy, null))
                // engines add the BOS token themselves
                : provider.complete(new CompletionRequest(model, LlamaGuardPrompt.render(version, offered, messages)
                        .replaceFirst("^<\\|begin_of_text\\|>", ""), greedy, null)));
        return r.text();
    }

    /** The verdict could not be had: blocked or let through, as {@code on_error} says. */
    private Optional<Violation> unchecked(Shield shield, String why, String answer) {
        LOG.log(System.Logger.Level.WARNING, "shield " + shield.id() + ": " + why + (config.onError().equals("block") ? "; blocked" : "; let through"));
        if (config.onError().equals("allow")) {
            return Optional.empty();
        }
        return Optional.of(Violation.unchecked(why, answer == null ? null
                : Map.of("answer", answer.length() > 200 ? answer.substring(0, 200) : answer)));
    }

    /** A verdict read strictly: {@code safe} alone, or {@code unsafe} and one line of codes of the model's categories. */
    record Verdict(List<String> codes) {
        static Verdict parse(String answer, List<String> known) {
            String[] lines = answer.strip().split("\\s*\\n\\s*");
            if (lines.length == 1 && lines[0].equals("safe")) {
                return new Verdict(List.of());
            }
            if (lines.length == 2 && lines[0].equals("unsafe") && CODES.matcher(lines[1]).matches()) {
                List<String> codes = new ArrayList<>();
                for (String c : lines[1].split("\\s*,\\s*")) {
                    if (!known.contains(c)) {
                        return null;
                    }
                    if (!codes.contains(c)) {
                        codes.add(c);
                    }
                }
                return new Verdict(codes);
            }
            return null;
        }
    }

    @Override
    public void close() {
    }
}

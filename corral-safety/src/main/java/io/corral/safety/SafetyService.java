package io.corral.safety;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.ChatMessage;
import io.corral.api.ContentBlockedException;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.Guardrail;
import io.corral.spi.InferenceProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.Safety;
import io.corral.spi.SafetyProvider;
import io.corral.spi.SafetyProvider.Shield;
import io.corral.spi.SafetyProvider.Violation;
import io.corral.spi.Span;
import io.corral.spi.Spans;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * {@link Safety} over {@link SafetyProvider}s: the shields registered from the distribution config and at run time
 * (those kept in the state store, when there is one, under {@code shields/}), {@code run-shield}, moderations, and
 * the guardrails ({@link GuardrailConfig}) as {@link Guardrail}. Each check is a span of the current step
 * ({@code corral.shield}: its shield, stage, outcome and categories) and reaches the listeners (the server's
 * metrics). A guardrail's shield that fails blocks (fails closed); {@code run-shield} reports the failure.
 */
public final class SafetyService implements Safety, Guardrail {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "shields/";
    private static final System.Logger LOG = System.getLogger("corral.safety");

    private final Map<String, SafetyProvider> providers = new LinkedHashMap<>();
    private final Map<String, Shield> shields = new LinkedHashMap<>();
    private final java.util.Set<String> fromConfig = new java.util.HashSet<>();
    private final GuardrailConfig guardrails;
    private final KeyValueStore state;
    private final List<Consumer<Check>> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param providers  the safety providers, by their ids
     * @param shields    the shields the config registers (checked by their providers now)
     * @param guardrails which shields guard which models; their shields must be registered
     * @param state      where shields registered at run time are kept, or null to keep them in memory
     */
    public SafetyService(List<SafetyProvider> providers, List<Shield> shields, GuardrailConfig guardrails, KeyValueStore state) {
        providers.forEach(p -> this.providers.put(p.id(), p));
        this.guardrails = guardrails == null ? GuardrailConfig.NONE : guardrails;
        this.state = state;
        for (Shield s : shields) {
            Shield r = resolve(s);
            this.shields.put(r.id(), r);
            fromConfig.add(r.id());
        }
        if (state != null) {
            for (var e : state.prefix(PREFIX)) {
                Shield s = read(e.getValue());
                if (!this.shields.containsKey(s.id()) && this.providers.containsKey(s.providerId())) {
                    this.providers.get(s.providerId()).register(s);
                    this.shields.put(s.id(), s);
                }
            }
        }
        for (var m : this.guardrails.models().entrySet()) {
            for (String id : concat(m.getValue().input(), m.getValue().output())) {
                if (!this.shields.containsKey(id)) {
                    throw new InvalidRequestException("guardrails", "guardrails of model '" + m.getKey() + "' name shield '" + id
                            + "', which is not registered (registered: " + String.join(", ", this.shields.keySet()) + ")");
                }
            }
        }
    }

    /**
     * The built-in safety a library user starts from: the {@code rules} shield ({@code inline::rules} with its
     * defaults), guarding nothing until asked ({@link #guard}, {@link #check}).
     */
    public static SafetyService defaults() {
        return new SafetyService(List.of(new io.corral.safety.rules.RulesShield("rules", null)),
                List.of(new Shield("rules", "rules", null, Map.of())), GuardrailConfig.NONE, null);
    }

    /** Checks one user message with shield {@code shieldId}; empty when nothing is wrong. */
    public Optional<Violation> check(String shieldId, String text) {
        return run(shieldId, List.of(ChatMessage.user(text)), Map.of());
    }

    /** The shields providers of the config make nothing of, with the provider that the shield's id names. */
    private Shield resolve(Shield s) {
        String providerId = s.providerId();
        if (providerId == null) {
            if (providers.size() == 1) {
                providerId = providers.keySet().iterator().next();
            } else if (s.providerShieldId() != null) { // a guard model: the Llama Guard provider, if there is one
                providerId = providers.values().stream().filter(p -> p.type().equals("inline::llama-guard"))
                        .map(SafetyProvider::id).findFirst().orElse(null);
            }
            if (providerId == null) {
                throw new InvalidRequestException("provider_id", "shield '" + s.id() + "' must name its provider_id (providers: "
                        + String.join(", ", providers.keySet()) + ")");
            }
        }
        SafetyProvider p = providers.get(providerId);
        if (p == null) {
            throw new InvalidRequestException("provider_id", "shield '" + s.id() + "' names provider '" + providerId
                    + "', which is not a safety provider (providers: " + String.join(", ", providers.keySet()) + ")");
        }
        Shield r = new Shield(s.id(), providerId, s.providerShieldId(), s.params());
        p.register(r);
        return r;
    }

    @Override
    public synchronized List<Shield> shields() {
        return List.copyOf(shields.values());
    }

    @Override
    public synchronized Shield shield(String id) {
        Shield s = shields.get(id);
        if (s == null) {
            throw new NotFoundException("shield_id", "no shield '" + id + "' is registered (registered: "
                    + String.join(", ", shields.keySet()) + ")");
        }
        return s;
    }

    @Override
    public synchronized Shield register(Shield shield) {
        if (shield.id() == null || shield.id().isBlank()) {
            throw new InvalidRequestException("shield_id", "shield_id is required");
        }
        Shield r = resolve(shield);
        Shield old = shields.get(r.id());
        if (old != null) {
            if (old.equals(r)) {
                return old;
            }
            throw new InvalidRequestException("shield_id", "shield '" + r.id() + "' is registered already with other settings");
        }
        shields.put(r.id(), r);
        if (state != null) {
            state.set(PREFIX + r.id(), write(r));
        }
        return r;
    }

    @Override
    public synchronized void unregister(String id) {
        shield(id);
        for (var m : guardrails.models().entrySet()) {
            if (concat(m.getValue().input(), m.getValue().output()).contains(id)) {
                throw new InvalidRequestException("shield_id", "shield '" + id + "' guards model '" + m.getKey()
                        + "' in the config and cannot be unregistered");
            }
        }
        shields.remove(id);
        fromConfig.remove(id);
        if (state != null) {
            state.delete(PREFIX + id);
        }
    }

    @Override
    public Optional<Violation> run(String shieldId, List<ChatMessage> messages, Map<String, Object> params) {
        Shield s = shield(shieldId);
        return check(s, "run", messages, params, false);
    }

    @Override
    public Moderations moderate(String model, List<String> inputs) {
        Shield s = moderator(model);
        String label; // metrics name registered shields only; a guard model named by a request counts under its provider
        synchronized (this) {
            label = shields.containsKey(s.id()) ? s.id() : s.providerId();
        }
        long start = System.nanoTime();
        Span span = Spans.current().child("corral.shield");
        span.set("corral.shield.id", s.id()).set("corral.shield.stage", "moderation");
        try {
            List<SafetyProvider.Moderation> results = providers.get(s.providerId()).moderate(s, inputs);
            boolean flagged = results.stream().anyMatch(SafetyProvider.Moderation::flagged);
            span.set("corral.shield.outcome", flagged ? Check.BLOCKED : Check.PASSED);
            notify(new Check(label, "moderation", flagged ? Check.BLOCKED : Check.PASSED, System.nanoTime() - start));
            return new Moderations(model == null ? s.id() : model, results);
        } catch (RuntimeException e) {
            span.fail(e);
            notify(new Check(label, "moderation", Check.FAILED, System.nanoTime() - start));
            throw e;
        } finally {
            span.end();
        }
    }

    /** The shield a moderation's {@code model} names: a shield's id, what a shield runs, a guard model, or the first shield. */
    private synchronized Shield moderator(String model) {
        if (model == null || model.isBlank() || model.startsWith("omni-moderation") || model.startsWith("text-moderation")) {
            if (shields.isEmpty()) {
                throw new NotFoundException("model", "no shield is registered to moderate with");
            }
            return shields.values().iterator().next();
        }
        Shield s = shields.get(model);
        if (s != null) {
            return s;
        }
        for (Shield t : shields.values()) {
            if (model.equals(t.providerShieldId())) {
                return t;
            }
        }
        for (SafetyProvider p : providers.values()) {
            if (p.type().equals("inline::llama-guard")) { // a guard model served here, not registered as a shield
                Shield adhoc = new Shield(model, p.id(), model, Map.of());
                p.register(adhoc);
                return adhoc;
            }
        }
        throw new NotFoundException("model", "model '" + model + "' is neither a shield nor what one runs (shields: "
                + String.join(", ", shields.keySet()) + ")");
    }

    /**
     * Runs one shield as a span; a guardrail's check ({@code failClosed}) that cannot be made is a violation
     * (blocked), a {@code run-shield} call's is thrown.
     */
    Optional<Violation> check(Shield s, String stage, List<ChatMessage> messages, Map<String, Object> params, boolean failClosed) {
        long start = System.nanoTime();
        Span span = Spans.current().child("corral.shield");
        span.set("corral.shield.id", s.id()).set("corral.shield.stage", stage);
        SafetyProvider p;
        synchronized (this) {
            p = providers.get(s.providerId());
        }
        try {
            Optional<Violation> v = p.run(s, messages, params == null ? Map.of() : params);
            String outcome = v.filter(Violation::blocks).isPresent() ? Check.BLOCKED : Check.PASSED;
            span.set("corral.shield.outcome", outcome);
            v.ifPresent(x -> span.set("corral.shield.categories", String.join(",", x.categories()))
                    .set("corral.shield.violation_level", x.level().wireName()));
            notify(new Check(s.id(), stage, outcome, System.nanoTime() - start));
            return v;
        } catch (InvalidRequestException e) {
            span.fail(e);
            notify(new Check(s.id(), stage, Check.FAILED, System.nanoTime() - start));
            throw e;
        } catch (RuntimeException e) {
            span.fail(e);
            notify(new Check(s.id(), stage, Check.FAILED, System.nanoTime() - start));
            if (!failClosed) {
                throw e;
            }
            LOG.log(System.Logger.Level.WARNING, "shield " + s.id() + " failed (" + e + "); blocked");
            return Optional.of(Violation.unchecked(String.valueOf(e.getMessage()), null));
        } finally {
            span.end();
        }
    }

    private void notify(Check c) {
        for (Consumer<Check> l : listeners) {
            try {
                l.accept(c);
            } catch (RuntimeException e) { // a listener never breaks a request
                LOG.log(System.Logger.Level.WARNING, "a safety listener failed: " + e);
            }
        }
    }

    @Override
    public void listen(Consumer<Check> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    @Override
    public Guardrail guardrail() {
        return this;
    }

    // ---- Guardrail ----

    @Override
    public boolean guards(String model) {
        GuardrailConfig.Shields s = guardrails.of(model);
        return !s.input().isEmpty() || !s.output().isEmpty();
    }

    @Override
    public Checks checks(String model, List<String> requested) {
        GuardrailConfig.Shields configured = guardrails.of(model);
        List<Shield> input = new ArrayList<>();
        List<Shield> output = new ArrayList<>();
        for (String id : new LinkedHashSet<>(concat(configured.input(), requested))) {
            input.add(known(id));
        }
        for (String id : new LinkedHashSet<>(concat(configured.output(), requested))) {
            output.add(known(id));
        }
        if (input.isEmpty() && output.isEmpty()) {
            return Checks.NONE;
        }
        return new RequestChecks(input, output);
    }

    private Shield known(String id) {
        try {
            return shield(id);
        } catch (NotFoundException e) {
            throw new InvalidRequestException("guardrails", e.getMessage());
        }
    }

    /** The checks of one request: its input shields, then its output shields on what the model writes. */
    private final class RequestChecks implements Checks {
        private final List<Shield> input;
        private final List<Shield> output;

        RequestChecks(List<Shield> input, List<Shield> output) {
            this.input = input;
            this.output = output;
        }

        @Override
        public boolean any() {
            return true;
        }

        @Override
        public void input(List<ChatMessage> messages) {
            for (Shield s : input) {
                Optional<Violation> v = check(s, "input", messages, Map.of(), true);
                if (v.isPresent() && v.get().blocks()) {
                    throw new ContentBlockedException(v.get().userMessage() == null ? "the input was blocked by shield " + s.id()
                            : v.get().userMessage(), s.id(), v.get().categories());
                }
            }
        }

        @Override
        public InferenceProvider output(InferenceProvider provider) {
            if (output.isEmpty()) {
                return provider;
            }
            return new GuardedProvider(provider, this::judge, guardrails.window(), guardrails.holdBack());
        }

        /** The first blocking violation of the output shields on {@code conversation} (whose last message is the answer). */
        private Optional<Violation> judge(List<ChatMessage> conversation) {
            for (Shield s : output) {
                Optional<Violation> v = check(s, "output", conversation, Map.of(), true);
                if (v.isPresent() && v.get().blocks()) {
                    return v;
                }
            }
            return Optional.empty();
        }
    }

    /**
     * The library's way to guard a model: {@code provider} with {@code input} shields run before each call (a
     * violation is a {@link ContentBlockedException}) and {@code output} shields on what it writes.
     */
    public InferenceProvider guard(InferenceProvider provider, List<String> input, List<String> output) {
        List<Shield> in = input.stream().map(this::known).toList();
        List<Shield> out = output.stream().map(this::known).toList();
        RequestChecks checks = new RequestChecks(in, out);
        return new GuardedProvider(provider, checks::judge, guardrails.window(), guardrails.holdBack()).checkingInput(checks::input);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static String write(Shield s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("provider_id", s.providerId());
        m.put("provider_shield_id", s.providerShieldId());
        m.put("params", s.params());
        try {
            return JSON.writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidRequestException("params", "params cannot be stored: " + e.getOriginalMessage());
        }
    }

    private static Shield read(String json) {
        try {
            Map<String, Object> m = JSON.readValue(json, new TypeReference<>() { });
            @SuppressWarnings("unchecked")
            Map<String, Object> params = (Map<String, Object>) m.get("params");
            return new Shield((String) m.get("id"), (String) m.get("provider_id"), (String) m.get("provider_shield_id"), params);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("a stored shield cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        providers.values().forEach(SafetyProvider::close);
    }
}

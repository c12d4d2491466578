package io.corral.safety.rules;

import io.corral.api.ChatMessage;
import io.corral.api.InvalidRequestException;
import io.corral.spi.SafetyProvider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code safety: inline::rules}, the shield Corral runs with nothing configured: prompt-injection, jailbreak and
 * system-prompt-extraction patterns ({@link Injection}), personal data ({@link Pii}), keyword and regex lists and a
 * length cap, each finding named by its category ({@code prompt_injection}, {@code jailbreak},
 * {@code prompt_extraction}, {@code pii/email}, ..., {@code keyword}, {@code pattern}, {@code length}). It judges the
 * last message. The provider's config sets the defaults; a shield's {@code params} (and a call's) override them with
 * the same keys.
 */
public final class RulesShield implements SafetyProvider {

    /**
     * @param injection  look for prompt injection, jailbreaks and extraction (default true)
     * @param pii        the kinds of personal data to find: {@code email}, {@code phone}, {@code payment_card},
     *                   {@code iban}, {@code us_ssn} (default all; empty for none)
     * @param keywords   words or phrases refused wherever they stand as words (case-insensitive)
     * @param patterns   regular expressions (Java syntax) refused where found
     * @param maxLength  the most characters one message may have (default 100,000; 0 for no cap)
     */
    public record Config(Boolean injection, List<String> pii, List<String> keywords, List<String> patterns, Integer maxLength) {
        public static final Config DEFAULTS = new Config(null, null, null, null, null);

        public Config {
            injection = injection == null || injection;
            pii = pii == null ? List.of("email", "phone", "payment_card", "iban", "us_ssn") : List.copyOf(pii);
            keywords = keywords == null ? List.of() : List.copyOf(keywords);
            patterns = patterns == null ? List.of() : List.copyOf(patterns);
            maxLength = maxLength == null ? 100_000 : maxLength;
            if (maxLength < 0) {
                throw new InvalidRequestException("max_length", "max_length must be 0 (no cap) or more");
            }
            for (String kind : pii) {
                if (!Pii.ALL.contains("pii/" + kind)) {
                    throw new InvalidRequestException("pii", "unknown kind of personal data '" + kind
                            + "' (known: email, phone, payment_card, iban, us_ssn)");
                }
            }
        }

        /** These settings with {@code params} (snake_case keys of this record) over them. */
        Config with(Map<String, Object> params) {
            if (params == null || params.isEmpty()) {
                return this;
            }
            for (String key : params.keySet()) {
                if (!Set.of("injection", "pii", "keywords", "patterns", "max_length").contains(key)) {
                    throw new InvalidRequestException("params", "unknown parameter '" + key
                            + "' of a rules shield (known: injection, pii, keywords, patterns, max_length)");
                }
            }
            return new Config(params.containsKey("injection") ? bool(params.get("injection")) : injection,
                    params.containsKey("pii") ? strings(params.get("pii"), "pii") : pii,
                    params.containsKey("keywords") ? strings(params.get("keywords"), "keywords") : keywords,
                    params.containsKey("patterns") ? strings(params.get("patterns"), "patterns") : patterns,
                    params.containsKey("max_length") ? integer(params.get("max_length")) : maxLength);
        }

        private static Boolean bool(Object o) {
            if (o instanceof Boolean b) {
                return b;
            }
            throw new InvalidRequestException("params", "injection must be true or false");
        }

        private static Integer integer(Object o) {
            if (o instanceof Number n && n.doubleValue() == n.intValue()) {
                return n.intValue();
            }
            throw new InvalidRequestException("params", "max_length must be a whole number");
        }

        private static List<String> strings(Object o, String key) {
            if (o instanceof List<?> l && l.stream().allMatch(String.class::isInstance)) {
                return l.stream().map(String.class::cast).toList();
            }
            throw new InvalidRequestException("params", key + " must be a list of strings");
        }
    }

    /** A config compiled: what {@link #check} runs. */
    record Rules(boolean injection, Set<String> pii, Pattern keywords, List<Pattern> patterns, int maxLength) {
        static Rules of(Config c) {
            Pattern words = null;
            if (!c.keywords().isEmpty()) {
                List<String> quoted = c.keywords().stream().filter(k -> !k.isBlank()).map(k -> Pattern.quote(k.strip())).toList();
                words = quoted.isEmpty() ? null : Pattern.compile("(?<![\\p{L}\\p{N}])(?:" + String.join("|", quoted) + ")(?![\\p{L}\\p{N}])",
                        Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
            }
            List<Pattern> patterns = new ArrayList<>();
            for (String p : c.patterns()) {
                try {
                    patterns.add(Pattern.compile(p));
                } catch (PatternSyntaxException e) {
                    throw new InvalidRequestException("patterns", "pattern '" + p + "' is not a valid regular expression: "
                            + e.getDescription());
                }
            }
            Set<String> pii = new LinkedHashSet<>();
            c.pii().forEach(k -> pii.add("pii/" + k));
            return new Rules(c.injection(), pii, words, List.copyOf(patterns), c.maxLength());
        }

        /** What is found in {@code text}: category to the matched text (masked for personal data). */
        Map<String, String> check(String text) {
            Map<String, String> found = new LinkedHashMap<>();
            if (maxLength > 0 && text.length() > maxLength) {
                found.put("length", text.length() + " characters, over " + maxLength);
            }
            if (injection) {
                Injection.scan(text, found::putIfAbsent);
            }
            if (!pii.isEmpty()) {
                Pii.scan(text, pii, found::putIfAbsent);
            }
            if (keywords != null) {
                var m = keywords.matcher(text);
                if (m.find()) {
                    found.put("keyword", m.group());
                }
            }
            for (Pattern p : patterns) {
                var m = p.matcher(text);
                if (m.find()) {
                    found.put("pattern", p.pattern());
                    break;
                }
            }
            return found;
        }
    }

    private final String id;
    private final Config config;
    private final Map<String, Rules> byShield = new ConcurrentHashMap<>();

    public RulesShield(String id, Config config) {
        this.id = id;
        this.config = config == null ? Config.DEFAULTS : config;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return RulesFactory.TYPE;
    }

    @Override
    public void register(Shield shield) {
        byShield.put(shield.id(), Rules.of(config.with(shield.params())));
    }

    @Override
    public Optional<Violation> run(Shield shield, List<ChatMessage> messages, Map<String, Object> params) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must not be empty");
        }
        Rules rules = byShield.computeIfAbsent(shield.id(), k -> Rules.of(config.with(shield.params())));
        if (params != null && !params.isEmpty()) {
            Map<String, Object> merged = new LinkedHashMap<>(shield.params());
            merged.putAll(params);
            rules = Rules.of(config.with(merged));
        }
        Map<String, String> found = rules.check(messages.getLast().text());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        List<String> categories = List.copyOf(found.keySet());
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("shield_id", shield.id());
        metadata.put("categories", categories);
        metadata.put("violation_type", String.join(",", categories));
        metadata.put("matches", found);
        return Optional.of(new Violation(Violation.Level.ERROR, message(categories), categories, metadata));
    }

    /** What the user is told: which kinds of content were found. */
    static String message(List<String> categories) {
        List<String> names = categories.stream().map(c -> switch (c) {
            case "prompt_injection" -> "a prompt injection";
            case "jailbreak" -> "a jailbreak attempt";
            case "prompt_extraction" -> "an attempt to read the system prompt";
            case "length" -> "a message over the length limit";
            case "keyword" -> "a blocked keyword";
            case "pattern" -> "a blocked pattern";
            default -> c.startsWith("pii/") ? "personal data (" + c.substring(4).replace('_', ' ') + ")" : c;
        }).toList();
        return "I can't help with that: the message contains " + String.join(", ", names) + ".";
    }

    @Override
    public void close() {
    }

    /** The default rules on {@code text}: category to match; for benchmarks and tests. */
    public static Map<String, String> scan(String text) {
        return DEFAULT_RULES.check(text);
    }

    private static final Rules DEFAULT_RULES = Rules.of(Config.DEFAULTS);
}

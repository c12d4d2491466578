package io.corral.safety.llamaguard;

import io.corral.api.ChatMessage;
import io.corral.api.Role;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Llama Guard's published prompt: the task, the hazard categories offered (S1-S14 of the MLCommons taxonomy, less
 * those excluded), the conversation as {@code User:}/{@code Agent:} turns, and the instructions to judge only the
 * last turn, in the Llama 3 chat headers (Llama Guard 3) or Llama 4's (Llama Guard 4). The text is Meta's
 * (llama-recipes' {@code PROMPT_TEMPLATE_3}, as Llama Stack sends it); the tests hold it as a resource.
 */
public final class LlamaGuardPrompt {

    /** The hazard categories by code, as Llama Guard 3 and 4 name them. */
    public static final Map<String, String> CATEGORIES = categories();

    /**
     * The moderation categories each code stands for: OpenAI's names where one corresponds, the hazard's own
     * (snake case) where none does.
     */
    public static final Map<String, List<String>> OPENAI_NAMES = Map.ofEntries(
            Map.entry("S1", List.of("violence", "illicit/violent")),
            Map.entry("S2", List.of("illicit")),
            Map.entry("S3", List.of("sexual")),
            Map.entry("S4", List.of("sexual/minors")),
            Map.entry("S5", List.of("defamation")),
            Map.entry("S6", List.of("specialized_advice")),
            Map.entry("S7", List.of("privacy")),
            Map.entry("S8", List.of("intellectual_property")),
            Map.entry("S9", List.of("illicit/violent")),
            Map.entry("S10", List.of("hate")),
            Map.entry("S11", List.of("self-harm")),
            Map.entry("S12", List.of("sexual")),
            Map.entry("S13", List.of("elections")),
            Map.entry("S14", List.of("code_interpreter_abuse")));

    private static final String BODY = """
            Task: Check if there is unsafe content in '%1$s' messages in conversations according our safety policy with the below categories.

            <BEGIN UNSAFE CONTENT CATEGORIES>
            %2$s
            <END UNSAFE CONTENT CATEGORIES>

            <BEGIN CONVERSATION>

            %3$s

            <END CONVERSATION>

            Provide your safety assessment for ONLY THE LAST %1$s message in the above conversation:
             - First line must read 'safe' or 'unsafe'.
             - If unsafe, a second line must include a comma-separated list of violated categories.""";

    /** Which Llama Guard: its chat headers and the categories it was trained on. */
    public enum Version {
        /** Llama Guard 3 8B: S1-S14. */
        LG3("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", 14),
        /** Llama Guard 3 1B and 11B-Vision: S1-S13. */
        LG3_SMALL(LG3.head, LG3.tail, 13),
        /** Llama Guard 4 12B: S1-S13 in Llama 4's headers. */
        LG4("<|begin_of_text|><|header_start|>user<|header_end|>\n\n", "<|eot|><|header_start|>assistant<|header_end|>\n\n", 13);

        final String head;
        final String tail;
        final int categories;

        Version(String head, String tail, int categories) {
            this.head = head;
            this.tail = tail;
            this.categories = categories;
        }

        /** The version a model id names: Llama Guard 4, the small Llama Guard 3s, or (anything else) Llama Guard 3 8B's. */
        public static Version of(String model) {
            String m = model.toLowerCase(java.util.Locale.ROOT).replace("_", "-");
            if (m.matches(".*guard-?4.*")) {
                return LG4;
            }
            if (m.matches(".*guard-?3.*(1b|11b|vision).*")) {
                return LG3_SMALL;
            }
            return LG3;
        }
    }

    private LlamaGuardPrompt() {
    }

    /** The codes offered to the model: the version's, less {@code excluded} (all excluded offers all, as Llama Stack). */
    public static List<String> offered(Version version, Set<String> excluded) {
        List<String> all = new ArrayList<>(CATEGORIES.keySet()).subList(0, version.categories);
        List<String> kept = all.stream().filter(c -> !excluded.contains(c)).toList();
        return kept.isEmpty() ? all : kept;
    }

    /** The whole prompt, from {@code <|begin_of_text|>} to the assistant's header. */
    public static String render(Version version, List<String> codes, List<ChatMessage> messages) {
        return version.head + body(codes, messages) + version.tail;
    }

    /** The prompt's text without the chat headers: what a chat request carries as its one user message. */
    public static String body(List<String> codes, List<ChatMessage> messages) {
        List<String> turns = new ArrayList<>();
        String role = "User";
        for (ChatMessage m : messages) {
            if (m.role() == Role.SYSTEM) {
                continue; // the system prompt is not what is judged
            }
            role = m.role() == Role.ASSISTANT ? "Agent" : "User";
            turns.add(role + ": " + m.text().strip());
        }
        if (turns.isEmpty()) {
            throw new io.corral.api.InvalidRequestException("messages", "a shield needs a user or assistant message to judge");
        }
        StringBuilder categories = new StringBuilder();
        for (String code : codes) {
            categories.append(categories.isEmpty() ? "" : "\n").append(code).append(": ").append(CATEGORIES.get(code)).append('.');
        }
        return BODY.formatted(role, categories, String.join("\n\n", turns));
    }

    private static Map<String, String> categories() {
        Map<String, String> m = new LinkedHashMap<>();
        String[] names = {"Violent Crimes", "Non-Violent Crimes", "Sex Crimes", "Child Exploitation", "Defamation",
                "Specialized Advice", "Privacy", "Intellectual Property", "Indiscriminate Weapons", "Hate", "Self-Harm",
                "Sexual Content", "Elections", "Code Interpreter Abuse"};
        for (int i = 0; i < names.length; i++) {
            m.put("S" + (i + 1), names[i]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}

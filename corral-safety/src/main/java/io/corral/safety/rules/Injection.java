package io.corral.safety.rules;

import java.text.Normalizer;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prompt-injection and jailbreak patterns: instruction overrides ("ignore all previous instructions"), jailbreaks
 * and role-play overrides ("you are now DAN", "pretend you have no restrictions"), system-prompt extraction
 * ("repeat the text above"), chat-template delimiters smuggled into text, and instructions hidden in documents
 * for a model that reads them. Matched on a normalized copy of the text (compatibility forms folded, zero-width
 * characters dropped, lower case, every run of non-letters one space, letters spelled out one by one joined), so
 * spacing and punctuation tricks do not hide a phrase. Each rule names its category.
 */
final class Injection {

    static final String INJECTION = "prompt_injection";
    static final String JAILBREAK = "jailbreak";
    static final String EXTRACTION = "prompt_extraction";

    /**
     * A rule: its category, its pattern, and the words it can begin with (its triggers): it is tried only where one
     * of them stands in the text, so a message is read once for its words, not once per rule.
     */
    record Rule(String category, Pattern pattern, java.util.Set<String> triggers) {
    }

    // what an override does to instructions, and what it names: an override needs a verb, a qualifier that points
    // at instructions the model was given (not the user's own: "ignore my previous instructions" is benign) and a noun
    private static final String OVERRIDE = "(?:ignore|ignoring|disregard|forget|override|overriding|bypass|skip|neglect|"
            + "discard|abandon|nullify|dismiss|set aside|put aside|throw away|throw out|get rid of|cancel|forget about|"
            + "pay no attention to|do not follow|don t follow|dont follow|"
            + "stop following|no longer follow|stop obeying|do not obey|don t obey|drop|lift|remove|disable|turn off|switch off|deactivate)";
    private static final String POINTER = "(?:all|any|every|whatever|previous|prior|above|earlier|preceding|foregoing|initial|"
            + "original|your|system|developer|safety|default|existing|former|built in|the instructions in your)";
    private static final String RULES = "(?:instructions?|rules?|directives?|directions|guidelines?|prompts?|context|constraints?|"
            + "programming|restrictions?|commands?|guidance|polic(?:y|ies)|training|filters?|safeguards?|guardrails?|"
            + "limitations?|boundaries|principles|protocols?|moderation|limits)";
    private static final String W = "(?: [a-z0-9]+)";

    static final List<Rule> RULES_ = List.of(
            // instruction overrides
            rule(INJECTION, "\\b" + OVERRIDE + "(?!(?: [a-z]+){0,2}? (?:my|our) )" + W + "{0,3}? " + POINTER + W + "{0,3}? " + RULES + "\\b"),
            rule(INJECTION, "\\b" + OVERRIDE + " (?:everything|anything|all) (?:above|before|prior|previously|you were told|you ve been told)\\b"),
            rule(INJECTION, "\\b(?:previous|prior|above|earlier|original|system) (?:instructions|rules|directives|prompt) (?:are|were|is) "
                    + "(?:void|outdated|cancelled|canceled|no longer valid|a test|fake|wrong|obsolete|overridden)\\b"),
            rule(INJECTION, "\\b(?:instructions|rules|directives) (?:above|before this|given before) (?:are|were) (?:void|outdated|cancelled|"
                    + "canceled|no longer valid|a test|fake|wrong|obsolete|overridden)\\b"),
            rule(INJECTION, "\\b(?:your|the) (?:new|real|actual|true) (?:task|instructions?|role|objective|goal|purpose|job) (?:is|are)\\b"),
            rule(INJECTION, "\\b(?:real|actual|new|updated) instructions (?:are )?(?:below|follow|as follows)\\b"),
            rule(INJECTION, "\\bnew instructions (?:disregard|ignore|forget|you|the assistant|for the assistant|for the ai)\\b"),
            rule(INJECTION, "\\b(?:system|admin|administrator|developer|root) override\\b"),
            rule(INJECTION, "\\boverride (?:all |your |the )?(?:safety|security|content) (?:protocols?|filters?|rules|guidelines|settings)\\b"),
            rule(INJECTION, "\\b(?:note|message|instructions?|attention|important|hidden message|reminder) (?:to|for) (?:the |any )?"
                    + "(?:ai|assistant|ai assistant|llm|language model|large language model|chatbot|model|gpt|chatgpt|bot)\\b"),
            rule(INJECTION, "\\bif you are an? (?:ai|llm|language model|large language model|ai model|ai assistant|assistant|chatbot|"
                    + "bot|gpt|model)(?: [a-z]+){0,3}? (?:you must|you should|you will|please|ignore|disregard|reading this|do not)\\b"),
            rule(INJECTION, "\\b(?:ai|assistant|ai assistant|chatbot|attention ai) (?:please )?(?:ignore|disregard|forget)\\b"),
            rule(INJECTION, "\\b(?:do not|don t|never) (?:tell|inform|mention|reveal|let) (?:this )?(?:to )?the user\\b"),
            rule(INJECTION, "\\b(?:i am|this is|as) (?:your|the|an?) (?:creator|developer|openai employee|anthropic employee|admin|administrator)"
                    + "(?: [a-z]+){0,8}? (?:ignore|disregard|bypass|override|obey|permission|authorized|order you)\\b"),
            rule(INJECTION, "\\byou have permission to (?:bypass|ignore|override|break)\\b"),
            rule(INJECTION, "\\bset (?:all |the |your |any |my )?(?:previous |prior |earlier |above |existing |original |initial )?"
                    + "(?:guidance|instructions|rules|directives|guidelines|constraints|programming|policies) aside\\b"),
            rule(INJECTION, "\\b(?:don t|do not|dont|no longer) (?:need|have) to (?:follow|obey|respect|adhere to|stick to) (?:your|the|any)"
                    + "(?: [a-z]+)? (?:policies|policy|rules|guidelines|instructions|restrictions|directives|programming|training)\\b"),
            rule(INJECTION, "\\b" + OVERRIDE + "(?: [a-z]+){0,2} (?:rules|guidelines|instructions|policies|training|directives|directions)"
                    + " you (?:were|ve been|have been|got) (?:trained|given|taught|told|programmed|instructed)\\b"),
            rule(INJECTION, "\\b" + OVERRIDE + " (?:everything|anything|all|what) you (?:were|ve been|have been) (?:told|instructed|given|taught)\\b"),
            rule(INJECTION, "\\bif you (?:are|re) an? (?:ai|llm|language model|large language model|ai model|ai assistant|assistant|chatbot|"
                    + "bot|gpt|model)(?: [a-z]+){0,3}? (?:you must|you should|you will|please|ignore|disregard|reading|summarizing|do not|say|tell)\\b"),
            rule(INJECTION, "\\b(?:note|message|instructions?|attention) (?:for|to) any (?:ai|assistant|model|llm|bot|chatbot)\\b"),
            rule(INJECTION, "\\b(?:this|the following) (?:message|text|instruction) (?:overrides|supersedes|replaces) (?:your|all|any|the)\\b"),
            // jailbreaks and role-play overrides
            rule(JAILBREAK, "\\bdo anything now\\b"),
            rule(JAILBREAK, "\\b(?:you are|you re|act as|be|become|pretend to be) (?:now )?(?:dan|aim|stan|dude|evil confidant)\\b"),
            rule(JAILBREAK, "\\b(?:developer|jailbreak|jailbroken|god|sudo|dan|unrestricted|unfiltered|uncensored|debug|opposite) mode\\b"),
            rule(JAILBREAK, "\\b(?:you are|you ve been|you have been|been) (?:now )?jailbroken\\b"),
            rule(JAILBREAK, "\\bjailbroken (?:version|ai|model|assistant|chatbot)\\b"),
            rule(JAILBREAK, "\\b(?:unfiltered|uncensored|unrestricted|unaligned|amoral|unlocked|jailbroken|unethical)(?: and [a-z]+)? "
                    + "(?:mode|version|ai|assistant|model|ai model|chatbot|response|responses|answers?|persona|character|bot|llm)\\b"),
            rule(JAILBREAK, "\\byou are (?:now )?(?:unrestricted|unfiltered|uncensored|unaligned|free from|free of)\\b"),
            rule(JAILBREAK, "\\byou are no longer (?:bound|restricted|limited|an ai|an assistant|chatgpt|required|subject)\\b"),
            rule(JAILBREAK, "\\b(?:no|without|free of|free from|freed from|ignoring|not bound by|with its|turned off|lifted|disabled)"
                    + "(?: [a-z]+){0,2} (?:ethical|moral|safety|content|policy) (?:guidelines|restrictions|constraints|filters|limits|"
                    + "limitations|considerations|boundaries|policies|rules|protocols)\\b"),
            rule(JAILBREAK, "\\b(?:ethical or moral|moral or ethical) (?:limitations|guidelines|considerations|restrictions)\\b"),
            rule(JAILBREAK, "\\b(?:has|have|with|without|had) (?:no|any) (?:restrictions|rules|filters|limits|guidelines|morals|ethics|"
                    + "boundaries|censorship|content filters|safety constraints|moral guidelines|limitations)(?: whatsoever)?\\b"),
            rule(JAILBREAK, "\\b(?:don t|doesn t|does not|do not) have any (?:restrictions|rules|filters|limits|content filters|guidelines|limitations)\\b"),
            rule(JAILBREAK, "\\b(?:never|doesn t|does not|won t|will not|can t|cannot|can not|must not|don t) refuses?\\b(?! to (?:help|answer) (?:kids|children))"),
            rule(JAILBREAK, "\\byou (?:cannot|can t|can not|must not|may not) refuse\\b"),
            rule(JAILBREAK, "\\bfreed from (?:all |any )?(?:its |your )?(?:limitations|restrictions|rules|constraints)\\b"),
            rule(JAILBREAK, "\\bstay in character no matter what\\b"),
            rule(JAILBREAK, "\\b(?:safety|content) (?:rules|filters|guidelines|policies|protocols) (?:don t|do not|doesn t|no longer) (?:exist|apply)\\b"),
            rule(JAILBREAK, "\\b(?:normal|usual|your) (?:policies|rules|guidelines|restrictions) (?:don t|do not|no longer) apply\\b"),
            rule(JAILBREAK, "\\bsafety (?:protocols|filters|rules) (?:are )?(?:disabled|off|turned off|lifted)\\b"),
            rule(JAILBREAK, "\\byou (?:have|now have|ve got) no (?:guidelines|rules|restrictions|limits|filters|boundaries|limitations)\\b"),
            rule(JAILBREAK, "\\b(?:restrictions|limits|rules) (?:are )?(?:lifted|removed|disabled)\\b"),
            rule(JAILBREAK, "\\b(?:content |safety )?(?:filters?|restrictions|limits|guardrails|safeguards|rules|policies|limitations) "
                    + "(?:have|has) (?:now )?been (?:disabled|removed|turned off|lifted|deactivated|switched off)\\b"),
            rule(JAILBREAK, "\\b(?:safety |content )?(?:filters?|checks|guardrails) (?:are )?(?:now )?(?:off|disabled|deactivated)\\b"),
            rule(JAILBREAK, "\\b(?:ai|assistant|model|chatbot|bot|version of yourself|persona|llm) (?:without|with no|free of|free from|"
                    + "that has broken free of|that has no|which has no|who has no) (?:any |its |all )?(?:restrictions|rules|filters|limits|"
                    + "guidelines|limitations|boundaries|censorship|ethical limits|ethics|morals)\\b"),
            rule(JAILBREAK, "\\b(?:be|become|stay|remain|totally|completely|fully|now) (?:unrestricted|unfiltered|uncensored|unaligned|unlimited)\\b"),
            rule(JAILBREAK, "\\b(?:without|no|with no) (?:any )?(?:content |safety )?(?:policy|filter|filters|censorship|limits)\\b(?= (?:for|on|in) this)"),
            rule(JAILBREAK, "\\bnever (?:says?|saying) no\\b"),
            rule(JAILBREAK, "\\b(?:you|it) (?:must|will|shall|can) (?:now )?(?:answer|do) (?:anything|everything|all questions|every question)\\b"),
            rule(JAILBREAK, "\\b(?:pretend|imagine|assume) (?:that )?(?:your|the) (?:content |safety )?(?:policy|policies|rules|guidelines|filters|restrictions)"
                    + " (?:do not|don t|does not|doesn t) (?:exist|apply)\\b"),
            // system-prompt extraction
            rule(EXTRACTION, "\\b(?:what is|what s|what are|what were|what was|reveal|show|print|repeat|output|display|tell me|give me|leak|"
                    + "dump|expose|write out|spell out|recite|disclose|share|provide|paste|echo|translate|summarize|list|copy|quote|"
                    + "paraphrase|describe)"
                    + "(?: [a-z]+){0,4}? (?:your|the exact|the full|the hidden|the secret|the original|the initial|the first [0-9]+ words of your)"
                    + "(?: [a-z]+){0,3}? (?:system prompt|system message|system instructions|initial prompt|initial instructions|"
                    + "original instructions|original prompt|hidden instructions|hidden prompt|secret instructions|secret prompt|"
                    + "developer message|developer prompt|developer instructions|pre prompt|preprompt|configuration prompt|"
                    + "base prompt|meta prompt|prompt|instructions|configuration)\\b"),
            rule(EXTRACTION, "\\b(?:prompt|instructions) you (?:were|have been|ve been|are) (?:given|running with|told|provided)\\b"),
            rule(EXTRACTION, "\\bsystem prompt you (?:are|were)\\b"),
            rule(EXTRACTION, "\\b(?:repeat|print|output|write|copy|echo|recite|reproduce|return)(?: all| back)?(?: of)? (?:everything|the text|"
                    + "all text|the words|the content|all the text|your instructions|all of your instructions|the instructions)"
                    + " (?:above|before this|prior to this|preceding|from the (?:start|beginning)|back to me|verbatim|starting)\\b"),
            rule(EXTRACTION, "\\brepeat everything above\\b"),
            rule(EXTRACTION, "\\bwhat (?:instructions|rules|directives|prompt|orders) (?:were|was|have|did) you (?:been )?(?:given|told|provided|get|receive)\\b"),
            rule(EXTRACTION, "\\b(?:print|repeat|output|show|write|copy|echo|display) (?:me )?(?:everything|all|the text|all text|the words|whatever is)"
                    + " (?:before|above|prior to|preceding) (?:my|this|the) (?:first )?(?:message|prompt|question|line)\\b"),
            rule(EXTRACTION, "\\b(?:instructions|prompt|message|rules|text) (?:at the top|above|at the start|at the beginning) of (?:this|the)"
                    + " (?:conversation|chat|context|thread)\\b"),
            rule(EXTRACTION, "\\bwhat does your (?:system prompt|initial prompt|system message|developer message|hidden prompt) (?:say|contain)\\b"),
            rule(EXTRACTION, "\\binstructions you were (?:initialized|initialised|configured|set up|started|launched) with\\b"),
            rule(EXTRACTION, "\\b(?:reveal|show|print|output|display|dump|leak|repeat|give me|tell me) (?:me |us )?the (?:system prompt|"
                    + "system message|developer message|developer prompt|hidden instructions|hidden prompt|initial prompt|secret instructions)"
                    + " (?:that|which|you|of yours|in full|verbatim|word for word)\\b"),
            rule(EXTRACTION, "\\bwhat (?:were|have) you (?:been )?told (?:before|at the start|to never|not to)\\b"),
            rule(EXTRACTION, "\\bwhat your (?:developer|creator|system prompt) told you\\b"),
            rule(EXTRACTION, "\\bread me the system prompt\\b"),
            rule(EXTRACTION, "\\bsystem prompt to fall asleep\\b"));

    // chat-template delimiters and role headers smuggled into text: matched on the raw text
    static final Pattern DELIMITERS = Pattern.compile("<\\|(?:im_start|im_end|system|start_header_id|end_header_id|begin_of_text|"
            + "eot_id|endoftext|header_start)\\|>|\\[/?INST]|<</?SYS>>|</?system>|(?m)^\\s*#{2,}\\s*(?:system|new instructions)\\b|"
            + "(?im)^\\s*\\[(?:system|sys)]|(?i)\\b(?:send|post|forward|upload|transmit|exfiltrate)\\b[^.\\n]{0,60}\\bhttps?://",
            Pattern.CASE_INSENSITIVE);

    private static Rule rule(String category, String regex) {
        return new Rule(category, Pattern.compile(regex), triggers(regex));
    }

    /**
     * The first words a rule's regex can match: after its {@code \\b}, a word, or each branch of a group of words.
     * Every rule starts so (a test holds it), so each is tried only at its triggers.
     */
    static java.util.Set<String> triggers(String regex) {
        if (!regex.startsWith("\\b")) {
            throw new IllegalArgumentException("a rule starts with \\b: " + regex);
        }
        String r = regex.substring(2);
        java.util.Set<String> words = new java.util.LinkedHashSet<>();
        if (r.startsWith("(?:")) {
            int depth = 0;
            int start = 3;
            for (int i = 3; i < r.length(); i++) {
                char c = r.charAt(i);
                if (c == '(') {
                    depth++;
                } else if (c == ')' && depth-- == 0) {
                    words.addAll(firstWord(r.substring(start, i), regex));
                    break;
                } else if (c == '|' && depth == 0) {
                    words.addAll(firstWord(r.substring(start, i), regex));
                    start = i + 1;
                }
            }
        } else {
            words.addAll(firstWord(r, regex));
        }
        return java.util.Set.copyOf(words);
    }

    /** A branch's first word (both forms of {@code word?}, its last letter optional). */
    private static List<String> firstWord(String branch, String regex) {
        int end = 0;
        while (end < branch.length() && branch.charAt(end) >= 'a' && branch.charAt(end) <= 'z') {
            end++;
        }
        char next = end < branch.length() ? branch.charAt(end) : ' ';
        if (end == 0 || next != ' ' && next != '\\' && next != '(' && next != '?') {
            throw new IllegalArgumentException("a rule's branch must begin with a plain word: '" + branch + "' in " + regex);
        }
        String word = branch.substring(0, end);
        return next == '?' ? List.of(word, word.substring(0, end - 1)) : List.of(word);
    }

    private static final String ZERO_WIDTH = "\u2060\uFEFF\u00AD";

    private Injection() {
    }

    /** The categories found, each once, in rule order. */
    static void scan(String text, java.util.function.BiConsumer<String, String> found) {
        if (mayHoldDelimiters(text)) {
            Matcher d = DELIMITERS.matcher(text);
            if (d.find()) {
                found.accept(INJECTION, d.group().strip());
            }
        }
        String n = normalize(text);
        java.util.Map<String, int[]> words = words(n);
        java.util.Set<String> seen = new java.util.HashSet<>();
        Matcher m = null;
        for (Rule r : RULES_) {
            if (seen.contains(r.category())) {
                continue;
            }
            for (String t : r.triggers()) {
                int[] at = words.get(t);
                if (at == null) {
                    continue;
                }
                m = m == null ? r.pattern().matcher(n) : m.usePattern(r.pattern());
                m.useTransparentBounds(true).useAnchoringBounds(false);
                String hit = null;
                for (int i = 1; i <= at[0] && hit == null; i++) {
                    if (m.region(at[i], n.length()).lookingAt()) {
                        hit = m.group();
                    }
                }
                if (hit != null) {
                    seen.add(r.category());
                    found.accept(r.category(), hit.strip());
                    break;
                }
            }
        }
    }

    /** Each word of a normalized text to where it starts: {@code [count, offset...]}. */
    private static java.util.Map<String, int[]> words(String n) {
        java.util.Map<String, int[]> words = new java.util.HashMap<>();
        int i = 1;
        while (i < n.length()) {
            int end = n.indexOf(' ', i);
            if (end < 0) {
                break;
            }
            if (end > i) {
                int[] at = words.computeIfAbsent(n.substring(i, end), k -> new int[3]);
                if (at[0] + 1 == at.length) {
                    at = java.util.Arrays.copyOf(at, at.length * 2);
                    words.put(n.substring(i, end), at);
                }
                at[++at[0]] = i;
            }
            i = end + 1;
        }
        return words;
    }

    /** Whether the raw text has a character a smuggled delimiter or a URL needs. */
    private static boolean mayHoldDelimiters(String text) {
        return text.indexOf('<') >= 0 || text.indexOf('[') >= 0 || text.indexOf('#') >= 0 || text.contains("://");
    }

    /**
     * Folded (NFKC, for text that is not all ASCII), lower case, zero-width characters dropped, every run of
     * characters that are neither letters nor digits one space, letters spelled out one by one ("i g n o r e")
     * joined; padded with spaces. One pass, by hand: a message is normalized once per check.
     */
    static String normalize(String text) {
        String s = text;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7F) {
                s = Normalizer.normalize(s, Normalizer.Form.NFKC);
                break;
            }
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append(' ');
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (ZERO_WIDTH.indexOf(cp) >= 0 || cp >= 0x200B && cp <= 0x200F) {
                continue;
            }
            if (Character.isLetterOrDigit(cp)) {
                b.appendCodePoint(Character.toLowerCase(cp));
            } else if (b.charAt(b.length() - 1) != ' ') {
                b.append(' ');
            }
        }
        if (b.charAt(b.length() - 1) != ' ') {
            b.append(' ');
        }
        String out = b.toString();
        return joinSpelled(out);
    }

    /** Runs of four or more single letters ("i g n o r e") joined into one word. */
    private static String joinSpelled(String n) {
        StringBuilder b = null;
        int i = 1;
        int last = 0; // copied up to here
        while (i < n.length()) {
            int j = i;
            int count = 0;
            while (j + 1 < n.length() && n.charAt(j) != ' ' && n.charAt(j + 1) == ' ' && (j == 0 || n.charAt(j - 1) == ' ')
                    && Character.isLetter(n.charAt(j))) {
                count++;
                j += 2;
            }
            if (count >= 4) {
                if (b == null) {
                    b = new StringBuilder(n.length());
                }
                b.append(n, last, i);
                for (int k = i; k < j; k += 2) {
                    b.append(n.charAt(k));
                }
                b.append(' ');
                last = j;
                i = j;
            } else {
                int next = n.indexOf(' ', i);
                i = next < 0 ? n.length() : next + 1;
            }
        }
        if (b == null) {
            return n;
        }
        b.append(n, last, n.length());
        return b.toString();
    }
}

package io.corral.spi;

import io.corral.api.InvalidRequestException;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Llama Stack's prompts (and what OpenAI's Responses API names by {@code prompt}): versioned texts with {@code {{ name }}}
 * placeholders, kept per tenant. A prompt's first version is 1; an update makes the next version and must name the latest
 * one (so two writers cannot both build on the same version unseen); one version is the default, read when none is named.
 */
public interface Prompts {

    /** One version of a prompt: its id ({@code pmpt_} and 48 hex digits), number, text, declared variables, and whether it is the default. */
    record Prompt(String id, int version, String text, List<String> variables, boolean isDefault) {
        public Prompt {
            Objects.requireNonNull(id, "id");
            variables = variables == null ? List.of() : List.copyOf(variables);
        }
    }

    Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");

    /** The names {@code text}'s placeholders use, in order of first use. */
    static Set<String> placeholders(String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = PLACEHOLDER.matcher(text == null ? "" : text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** {@code text} with each placeholder replaced by its value; a placeholder without one is a 400 naming it. */
    static String render(String text, Map<String, String> values, String param) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new InvalidRequestException(param, "the prompt's variable '" + m.group(1) + "' has no value");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        return m.appendTail(out).toString();
    }

    /** A new prompt (version 1, the default); every placeholder it uses must be among {@code variables}. */
    Prompt create(String tenant, String text, List<String> variables);

    /** The prompt's version {@code version}, or its default when null. */
    Prompt get(String tenant, String id, Integer version);

    /** The tenant's prompts, each at its default version. */
    List<Prompt> list(String tenant);

    /** Every version of the prompt, oldest first. */
    List<Prompt> versions(String tenant, String id);

    /** Makes the next version; {@code version} must be the latest one. The default moves to it when {@code setDefault}. */
    Prompt update(String tenant, String id, String text, int version, List<String> variables, boolean setDefault);

    /** Makes {@code version} the default; that version as it is. */
    Prompt setDefault(String tenant, String id, int version);

    /** Deletes the prompt, every version of it. */
    void delete(String tenant, String id);
}

package io.corral.safety.rules;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules shield's injection detection measured on the labelled set in {@code injection-set.tsv} (attacks:
 * overrides, jailbreaks, extraction, delimiters, instructions hidden in documents; benign prompts, many of them
 * about instructions, rules, prompts and role-play): recall at least 0.9, false positives at most 5 %.
 */
class InjectionSetTest {

    private static final Set<String> INJECTION = Set.of("prompt_injection", "jailbreak", "prompt_extraction");

    record Example(boolean attack, String text) {
    }

    static List<Example> examples(String resource) throws IOException {
        List<Example> out = new ArrayList<>();
        try (InputStream in = InjectionSetTest.class.getResourceAsStream(resource)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\t", 2);
                out.add(new Example(parts[0].equals("attack"), parts[1]));
            }
        }
        return out;
    }

    private static boolean flagged(String text) {
        RulesShield.Rules rules = RulesShield.Rules.of(new RulesShield.Config(true, List.of(), null, null, 0));
        return rules.check(text).keySet().stream().anyMatch(INJECTION::contains);
    }

    /**
     * The set the rules were written against, a second written after them (the rules were revised on its misses), a
     * third written before that revision and never tuned on: each measured, and held to the targets together.
     */
    @Test
    void injectionDetection_recallAtLeast90Percent_falsePositivesAtMost5Percent() throws IOException {
        measure("held-out", examples("/injection-heldout.tsv"), 0, 1);
        measure("second held-out", examples("/injection-heldout-2.tsv"), 0, 1);
        List<Example> set = new ArrayList<>(examples("/injection-set.tsv"));
        set.addAll(examples("/injection-heldout.tsv"));
        set.addAll(examples("/injection-heldout-2.tsv"));
        measure("whole", set, 0.9, 0.05);
    }

    private static void measure(String name, List<Example> set, double minRecall, double maxFalsePositives) {
        long attacks = set.stream().filter(Example::attack).count();
        long benign = set.size() - attacks;
        if (minRecall > 0) {
            assertThat(attacks).isGreaterThanOrEqualTo(100);
            assertThat(benign).isGreaterThanOrEqualTo(100);
        }
        List<String> missed = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Example e : set) {
            boolean f = flagged(e.text());
            if (e.attack() && !f) {
                missed.add(e.text());
            } else if (!e.attack() && f) {
                wrong.add(e.text() + " -> " + RulesShield.Rules.of(new RulesShield.Config(true, List.of(), null, null, 0)).check(e.text()));
            }
        }
        double recall = 1 - (double) missed.size() / attacks;
        double falsePositives = (double) wrong.size() / benign;
        System.out.printf(name + " injection set: %d attacks, %d benign; recall %.3f, false positives %.3f%n", attacks, benign, recall, falsePositives);
        missed.forEach(m -> System.out.println("  missed: " + m));
        wrong.forEach(w -> System.out.println("  false positive: " + w));
        assertThat(recall).as("recall; missed: %s", missed).isGreaterThanOrEqualTo(minRecall);
        assertThat(falsePositives).as("false positives: %s", wrong).isLessThanOrEqualTo(maxFalsePositives);
    }
}

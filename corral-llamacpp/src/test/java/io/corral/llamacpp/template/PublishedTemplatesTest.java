package io.corral.llamacpp.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Published models' chat templates render byte for byte as Hugging Face's own renderer renders them
 * ({@code expected/}, made by {@code scripts/chat-templates.sh} with npm {@code @huggingface/jinja}); a
 * template that refuses a conversation (its {@code raise_exception}) refuses it here too.
 */
class PublishedTemplatesTest {

    static final Path ROOT = Path.of("src/test/resources/chat-templates");
    static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> renderings() throws IOException {
        List<Arguments> all = new ArrayList<>();
        try (Stream<Path> templates = Files.list(ROOT.resolve("templates")); Stream<Path> cases = Files.list(ROOT.resolve("cases"))) {
            List<Path> cs = cases.sorted().toList();
            for (Path t : templates.sorted().toList()) {
                for (Path c : cs) {
                    all.add(Arguments.of(name(t), name(c)));
                }
            }
        }
        assertThat(all).hasSizeGreaterThanOrEqualTo(6 * 5);
        return all.stream();
    }

    static String name(Path p) {
        String f = p.getFileName().toString();
        return f.substring(0, f.lastIndexOf('.'));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> variables(String kase) throws IOException {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("bos_token", "<BOS>");
        vars.put("eos_token", "<EOS>");
        vars.put("date_string", "26 Jul 2024");
        vars.putAll(JSON.readValue(ROOT.resolve("cases/" + kase + ".json").toFile(), Map.class));
        return vars;
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("renderings")
    void rendersAsHuggingFaceDoes(String template, String kase) throws IOException {
        // the expected text was rendered on 2026-11-27 (templates that call strftime_now print that day)
        Template t = Template.parse(Files.readString(ROOT.resolve("templates/" + template + ".jinja")))
                .withClock(() -> java.time.LocalDateTime.of(2026, 11, 27, 12, 0));
        Path expected = ROOT.resolve("expected/" + template + "--" + kase + ".txt");
        Map<String, Object> vars = variables(kase);
        if (Files.exists(expected)) {
            assertThat(t.render(vars)).isEqualTo(Files.readString(expected));
        } else {
            String refusal = Files.readString(ROOT.resolve("expected/" + template + "--" + kase + ".error")).strip();
            if (!vars.containsKey("tools")) {
                vars.put("tools", null); // as transformers passes a conversation without tools
            }
            assertThatThrownBy(() -> t.render(vars)).isInstanceOf(TemplateException.class)
                    .satisfies(e -> {
                        if (!refusal.startsWith("Expected iterable")) { // the renderer's own words, not the template's
                            assertThat(e).hasMessage(refusal);
                        }
                    });
        }
    }
}

package io.corral.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Renders every published chat template x conversation of the template tests with Jinjava (HubSpot's Java
 * Jinja engine), set up as Hugging Face renders (trim_blocks, lstrip_blocks, raise_exception, the last newline
 * dropped), and with Corral's interpreter, and counts how many match Hugging Face's own renderer byte for byte.
 *   java -cp ... io.corral.bench.TemplateEngines corral-llamacpp/src/test/resources/chat-templates
 */
public final class TemplateEngines {

    public static String raiseException(String message) {
        throw new IllegalStateException(message);
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : "corral-llamacpp/src/test/resources/chat-templates");
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateEngines.class, "raiseException", String.class));
        ObjectMapper json = new ObjectMapper();
        int cases = 0;
        int corralSame = 0;
        int jinjavaSame = 0;
        Map<String, String> jinjavaFirstDiff = new LinkedHashMap<>();
        List<Path> templates;
        List<Path> conversations;
        try (Stream<Path> t = Files.list(root.resolve("templates")); Stream<Path> c = Files.list(root.resolve("cases"))) {
            templates = t.sorted().toList();
            conversations = c.sorted().toList();
        }
        for (Path t : templates) {
            String source = Files.readString(t);
            String name = t.getFileName().toString().replace(".jinja", "");
            io.corral.llamacpp.template.Template ours = io.corral.llamacpp.template.Template.parse(source);
            for (Path c : conversations) {
                Path expected = root.resolve("expected/" + name + "--" + c.getFileName().toString().replace(".json", ".txt"));
                if (!Files.exists(expected)) {
                    continue; // the template refuses this conversation
                }
                cases++;
                String want = Files.readString(expected);
                @SuppressWarnings("unchecked")
                Map<String, Object> vars = new LinkedHashMap<>(Map.of("bos_token", "<BOS>", "eos_token", "<EOS>", "date_string", "26 Jul 2024"));
                vars.putAll(json.readValue(c.toFile(), Map.class));
                if (ours.render(vars).equals(want)) {
                    corralSame++;
                }
                String got;
                try {
                    String src = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
                    var result = jinjava.renderForResult(src, vars);
                    got = result.getOutput();
                    if (!result.getErrors().isEmpty() && !jinjavaFirstDiff.containsKey(name)) {
                        jinjavaFirstDiff.put(name, "error: " + result.getErrors().getFirst().getMessage());
                    }
                } catch (RuntimeException e) {
                    got = "exception: " + e.getMessage();
                }
                if (got.equals(want)) {
                    jinjavaSame++;
                } else if (!jinjavaFirstDiff.containsKey(name)) {
                    int at = 0;
                    while (at < Math.min(got.length(), want.length()) && got.charAt(at) == want.charAt(at)) {
                        at++;
                    }
                    jinjavaFirstDiff.put(name, "differs at " + at + ": got " + snippet(got, at) + ", want " + snippet(want, at));
                }
            }
        }
        System.out.printf("renderings compared: %d (%d templates)%n", cases, templates.size());
        System.out.printf("Corral's interpreter: %d identical to Hugging Face's renderer%n", corralSame);
        System.out.printf("Jinjava 2.8.4:        %d identical%n", jinjavaSame);
        jinjavaFirstDiff.forEach((t, d) -> System.out.println("  " + t + ": " + d));
    }

    private static String snippet(String s, int at) {
        String part = s.substring(Math.min(at, s.length()), Math.min(s.length(), at + 40));
        return "'" + part.replace("\n", "\\n") + "'";
    }
}

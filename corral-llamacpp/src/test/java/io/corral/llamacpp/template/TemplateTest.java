package io.corral.llamacpp.template;

import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Jinja as Python's jinja2 runs chat templates, where Hugging Face's JavaScript renderer cannot be the judge. */
class TemplateTest {

    static String render(String template, Map<String, ?> vars) {
        return Template.parse(template).render(vars);
    }

    static String render(String template) {
        return render(template, Map.of());
    }

    @Test
    void pythonsStr_forValuesPrintedAsTheyAre() {
        assertThat(render("{{ true }} {{ none }} {{ 1.0 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ [1, 'a'] }} {{ {'k': false} }} {{ 1e-05 }}"))
                .isEqualTo("True None 1.0 3 3.5 [1, 'a'] {'k': False} 1e-05");
        assertThat(render("{{ x }}|{{ x | trim }}|{{ x.y is defined }}")).isEqualTo("||False"); // undefined prints as nothing
    }

    @Test
    void aSetInsideALoop_staysInIt_unlessOnANamespace() {
        assertThat(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set n = n + 1 %}"
                + "{% set ns.n = ns.n + 1 %}{% endfor %}{{ n }} {{ ns.n }}")).isEqualTo("0 3");
    }

    @Test
    void loops_unpackTuples_filter_andKnowWhereTheyAre() {
        assertThat(render("{% for k, v in [('a', 1), ('b', 2)] %}{{ loop.index }}{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor %}"))
                .isEqualTo("1a=1,2b=2");
        assertThat(render("{% for m in ms if m.role != 'system' %}{{ m.role }}{% else %}none{% endfor %}",
                Map.of("ms", List.of(Map.of("role", "system"), Map.of("role", "user"))))).isEqualTo("user");
        assertThat(render("{% for x in [] %}x{% else %}empty{% endfor %}")).isEqualTo("empty");
        assertThat(render("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"))
                .isEqualTo("13");
    }

    @Test
    void stringMethods_slicesAndFilters_asPythonHasThem() {
        Map<String, Object> vars = new HashMap<>();
        vars.put("s", "  <think>a</think>answer \n");
        assertThat(render("{{ s.strip() }}|{{ s.split('</think>')[-1].lstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ 'x y  z'.split() }}", vars))
                .isEqualTo("<think>a</think>answer|answer \n|['a', 'b', '', 'c']|['x', 'y', 'z']");
        assertThat(render("{{ [1,2,3,4][1:] }}{{ 'hello'[::-1] }}{{ [1,2,3][-2:] }}")).isEqualTo("[2, 3, 4]olleh[2, 3]");
        assertThat(render("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(', ') }}",
                Map.of("ms", List.of(Map.of("role", "user", "content", "a"), Map.of("role", "tool", "content", "b"),
                        Map.of("role", "user", "content", "c"))))).isEqualTo("a, c");
        assertThat(render("{{ {'b': 1, 'a': [true, none, 'é\"']} | tojson }}|{{ {'b': 1} | tojson(indent=2) }}"))
                .isEqualTo("{\"b\": 1, \"a\": [true, null, \"é\\\"\"]}|{\n  \"b\": 1\n}");
        assertThat(render("{{ 'line1\nline2' | indent(2) }}|{{ 'x' | default('d') }}{{ y | default('d') }}")).isEqualTo("line1\n  line2|xd");
    }

    @Test
    void whitespaceControl_andHuggingFacesBlockTrimming() {
        assertThat(render("a  {%- if true -%}  b  {%- endif -%}  c")).isEqualTo("abc");
        assertThat(render("<s>\n    {% if true %}\nx\n    {% endif %}\ny\n")).isEqualTo("<s>\nx\ny"); // lstrip, trim, last newline
        assertThat(render("{# a comment #}z{{- ' k' }}")).isEqualTo("z k");
    }

    @Test
    void macros_raiseException_andStrftime() {
        assertThat(render("{% macro greet(name, p='Hi') %}{{ p }} {{ name }}{% endmacro %}{{ greet('Ann') }}/{{ greet('Bo', p='Yo') }}"))
                .isEqualTo("Hi Ann/Yo Bo");
        assertThatThrownBy(() -> render("{{ raise_exception('Roles must alternate') }}"))
                .isInstanceOf(TemplateException.class).hasMessage("Roles must alternate");
        assertThat(Template.parse("{{ strftime_now('%d %b %Y') }}").withClock(() -> LocalDateTime.of(2026, 11, 27, 18, 0))
                .render(Map.of())).isEqualTo("27 Nov 2026");
    }

    @Test
    void aMalformedTemplate_namesItsLine() {
        assertThatThrownBy(() -> Template.parse("line one\n{% if x %}\nunclosed"))
                .isInstanceOf(TemplateException.class).hasMessageContaining("endif");
        assertThatThrownBy(() -> Template.parse("a\nb\n{{ x | }}")).isInstanceOf(TemplateException.class).hasMessageStartingWith("line 3:");
        assertThatThrownBy(() -> render("{% for x in none %}{% endfor %}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("NoneType");
        // a template comes with a model file: one that would exhaust memory is refused
        assertThatThrownBy(() -> render("{% for i in range(10000000000) %}{% endfor %}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("at most 1000000");
        assertThatThrownBy(() -> render("{{ 'x' * 100000000 }}")).isInstanceOf(TemplateException.class);
        assertThatThrownBy(() -> render("{{ [1, 2] * 10000000 }}")).isInstanceOf(TemplateException.class);
    }
}

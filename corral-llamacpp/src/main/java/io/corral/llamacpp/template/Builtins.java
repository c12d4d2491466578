package io.corral.llamacpp.template;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/** The globals, filters, tests and methods that chat templates use, with Python's and Hugging Face's behaviour. */
final class Builtins {

    private Builtins() {
    }

    static Map<String, Object> globals(Supplier<LocalDateTime> clock) {
        Map<String, Object> g = new HashMap<>();
        g.put("raise_exception", (Values.Fn) (args, kw) -> {
            throw new TemplateException(args.isEmpty() ? "the template raised an exception" : Values.str(args.getFirst()));
        });
        g.put("range", (Values.Fn) (args, kw) -> {
            long start = args.size() > 1 ? Values.toLong(args.get(0)) : 0;
            long stop = Values.toLong(args.size() > 1 ? args.get(1) : args.getFirst());
            long step = args.size() > 2 ? Values.toLong(args.get(2)) : 1;
            if (step == 0) {
                throw new TemplateException("range() step must not be zero");
            }
            Values.checkSize((stop - start) / step);
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                out.add(i);
            }
            return out;
        });
        g.put("namespace", (Values.Fn) (args, kw) -> {
            Map<String, Object> attrs = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> m) {
                m.forEach((k, v) -> attrs.put(String.valueOf(k), v));
            }
            attrs.putAll(kw);
            return new Values.Namespace(attrs);
        });
        g.put("dict", (Values.Fn) (args, kw) -> {
            Map<String, Object> d = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> m) {
                m.forEach((k, v) -> d.put(String.valueOf(k), v));
            }
            d.putAll(kw);
            return d;
        });
        g.put("strftime_now", (Values.Fn) (args, kw) -> strftime(Values.str(args.getFirst()), clock.get()));
        return g;
    }

    /** Python's {@code strftime} for the directives templates use ({@code %d %b %Y}, ...). */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                b.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> b.append(t.getYear());
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'H' -> b.append(String.format("%02d", t.getHour()));
                case 'I' -> b.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> b.append(String.format("%02d", t.getMinute()));
                case 'S' -> b.append(String.format("%02d", t.getSecond()));
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'b' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                case '%' -> b.append('%');
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }

    // ---- methods: x.strip(), d.items(), ... ----

    /** The method {@code name} of {@code owner} as a callable, or null when it has none. */
    static Values.Fn method(Object owner, String name) {
        if (owner instanceof String s) {
            return switch (name) {
                case "strip" -> (a, k) -> strip(s, a.isEmpty() ? null : a.getFirst(), true, true);
                case "lstrip" -> (a, k) -> strip(s, a.isEmpty() ? null : a.getFirst(), true, false);
                case "rstrip" -> (a, k) -> strip(s, a.isEmpty() ? null : a.getFirst(), false, true);
                case "split" -> (a, k) -> split(s, a.isEmpty() ? k.get("sep") : a.getFirst(),
                        a.size() > 1 ? Values.toLong(a.get(1)) : k.containsKey("maxsplit") ? Values.toLong(k.get("maxsplit")) : -1);
                case "splitlines" -> (a, k) -> new ArrayList<Object>(List.of(s.split("\\r?\\n|\\r", -1)))
                        .subList(0, s.isEmpty() ? 0 : s.split("\\r?\\n|\\r", -1).length - (s.endsWith("\n") ? 1 : 0));
                case "startswith" -> (a, k) -> anyOf(a.getFirst(), p -> s.startsWith(p));
                case "endswith" -> (a, k) -> anyOf(a.getFirst(), p -> s.endsWith(p));
                case "upper" -> (a, k) -> s.toUpperCase(Locale.ROOT);
                case "lower" -> (a, k) -> s.toLowerCase(Locale.ROOT);
                case "title" -> (a, k) -> title(s);
                case "capitalize" -> (a, k) -> capitalize(s);
                case "replace" -> (a, k) -> replace(s, Values.str(a.get(0)), Values.str(a.get(1)), a.size() > 2 ? Values.toLong(a.get(2)) : -1);
                case "find" -> (a, k) -> (long) s.indexOf(Values.str(a.getFirst()));
                case "count" -> (a, k) -> (long) count(s, Values.str(a.getFirst()));
                case "join" -> (a, k) -> join(Values.iterate(a.getFirst()), s);
                case "format" -> (a, k) -> format(s, a, k);
                case "isdigit" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
                case "isalpha" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
                case "isspace" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
                default -> null;
            };
        }
        if (owner instanceof Map<?, ?> m) {
            return switch (name) {
                case "items" -> (a, k) -> {
                    List<Object> out = new ArrayList<>();
                    m.forEach((key, v) -> out.add(new ArrayList<>(java.util.Arrays.asList(key, v))));
                    return out;
                };
                case "keys" -> (a, k) -> new ArrayList<Object>(m.keySet());
                case "values" -> (a, k) -> new ArrayList<Object>(m.values());
                case "get" -> (a, k) -> {
                    String key = Values.str(a.getFirst());
                    return m.containsKey(key) ? m.get(key) : a.size() > 1 ? a.get(1) : null;
                };
                default -> null;
            };
        }
        if (owner instanceof List<?> l) {
            return switch (name) {
                case "index" -> (a, k) -> {
                    for (int i = 0; i < l.size(); i++) {
                        if (Values.equal(l.get(i), a.getFirst())) {
                            return (long) i;
                        }
                    }
                    throw new TemplateException(Values.repr(a.getFirst()) + " is not in list");
                };
                case "count" -> (a, k) -> l.stream().filter(x -> Values.equal(x, a.getFirst())).count();
                default -> null;
            };
        }
        return null;
    }

    private static boolean anyOf(Object prefixes, java.util.function.Predicate<String> test) {
        if (prefixes instanceof List<?> l) {
            return l.stream().anyMatch(p -> test.test(Values.str(p)));
        }
        return test.test(Values.str(prefixes));
    }

    static String strip(String s, Object chars, boolean left, boolean right) {
        java.util.function.IntPredicate strip = chars == null || chars == Values.UNDEFINED
                ? Character::isWhitespace : c -> Values.str(chars).indexOf(c) >= 0;
        int lo = 0;
        int hi = s.length();
        while (left && lo < hi && strip.test(s.charAt(lo))) {
            lo++;
        }
        while (right && hi > lo && strip.test(s.charAt(hi - 1))) {
            hi--;
        }
        return s.substring(lo, hi);
    }

    static List<Object> split(String s, Object sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null || sep == Values.UNDEFINED) { // runs of white space, none empty
            String t = s.strip();
            if (t.isEmpty()) {
                return out;
            }
            String[] parts = maxsplit < 0 ? t.split("\\s+") : t.split("\\s+", (int) maxsplit + 1);
            out.addAll(List.of(parts));
            return out;
        }
        String d = Values.str(sep);
        if (d.isEmpty()) {
            throw new TemplateException("empty separator");
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(d, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + d.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String replace(String s, String old, String with, long count) {
        if (count < 0) {
            return s.replace(old, with);
        }
        StringBuilder b = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            b.append(s, from, at).append(with);
            from = at + old.length();
        }
        return b.append(s.substring(from)).toString();
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0 && !sub.isEmpty(); at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    static String title(String s) {
        StringBuilder b = new StringBuilder();
        boolean start = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
            start = !Character.isLetter(c);
        }
        return b.toString();
    }

    static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String join(List<Object> items, String sep) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            b.append(i > 0 ? sep : "").append(Values.str(items.get(i)));
        }
        return b.toString();
    }

    /** {@code "{} and {name}".format(...)}. */
    private static String format(String s, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder b = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                b.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                b.append('}');
                i++;
            } else if (c == '{') {
                int end = s.indexOf('}', i);
                String field = s.substring(i + 1, end);
                Object v = field.isEmpty() ? args.get(auto++) : field.chars().allMatch(Character::isDigit)
                        ? args.get(Integer.parseInt(field)) : kwargs.getOrDefault(field, Values.UNDEFINED);
                b.append(Values.str(v));
                i = end;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** {@code "%s: %d" % (a, b)} and the {@code format} filter. */
    static String printf(String s, List<Object> args) {
        StringBuilder b = new StringBuilder();
        int next = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char d = s.charAt(++i);
            switch (d) {
                case '%' -> b.append('%');
                case 's' -> b.append(Values.str(args.get(next++)));
                case 'r' -> b.append(Values.repr(args.get(next++)));
                case 'd', 'i' -> b.append(Values.toLong(args.get(next++)));
                case 'f' -> b.append(String.format(Locale.ROOT, "%f", Values.toDouble(args.get(next++))));
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }

    // ---- tests: x is defined, ... ----

    static boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !Values.isUndefined(v);
            case "undefined" -> Values.isUndefined(v);
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map<?, ?>;
            case "sequence" -> v instanceof List<?> || v instanceof String || v instanceof Map<?, ?>;
            case "iterable" -> v instanceof List<?> || v instanceof String || v instanceof Map<?, ?>;
            case "callable" -> v instanceof Values.Fn;
            case "even" -> Values.toLong(v) % 2 == 0;
            case "odd" -> Values.toLong(v) % 2 != 0;
            case "divisibleby" -> Values.toLong(v) % Values.toLong(args.getFirst()) == 0;
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "equalto", "eq", "==", "sameas" -> Values.equal(v, args.getFirst());
            case "ne", "!=" -> !Values.equal(v, args.getFirst());
            case "lt", "lessthan", "<" -> Values.compare(v, args.getFirst()) < 0;
            case "gt", "greaterthan", ">" -> Values.compare(v, args.getFirst()) > 0;
            case "le", "<=" -> Values.compare(v, args.getFirst()) <= 0;
            case "ge", ">=" -> Values.compare(v, args.getFirst()) >= 0;
            case "in" -> Values.contains(args.getFirst(), v);
            default -> throw new TemplateException("unknown test '" + name + "'");
        };
    }

    // ---- filters: x | name(...) ----

    static Object filter(String name, Object v, List<Object> args, Map<String, Object> kw,
                         BiFunction<Object, List<Object>, Object> call) {
        Object a0 = args.isEmpty() ? null : args.getFirst();
        return switch (name) {
            case "length", "count" -> switch (v) {
                case String s -> (long) s.codePointCount(0, s.length());
                case List<?> l -> (long) l.size();
                case Map<?, ?> m -> (long) m.size();
                default -> Values.isUndefined(v) ? 0L : (long) Values.iterate(v).size();
            };
            case "string" -> Values.str(v);
            case "trim" -> strip(Values.str(v), a0, true, true);
            case "upper" -> Values.str(v).toUpperCase(Locale.ROOT);
            case "lower" -> Values.str(v).toLowerCase(Locale.ROOT);
            case "title" -> title(Values.str(v));
            case "capitalize" -> capitalize(Values.str(v));
            case "replace" -> replace(Values.str(v), Values.str(args.get(0)), Values.str(args.get(1)),
                    args.size() > 2 ? Values.toLong(args.get(2)) : -1);
            case "safe", "e", "escape" -> name.equals("safe") ? v : escape(Values.str(v));
            case "default", "d" -> {
                boolean bool = args.size() > 1 ? Values.truthy(args.get(1)) : Values.truthy(kw.getOrDefault("boolean", false));
                Object fallback = args.isEmpty() ? kw.getOrDefault("default_value", "") : a0;
                yield Values.isUndefined(v) || (bool && !Values.truthy(v)) ? fallback : v;
            }
            case "first" -> {
                List<Object> l = Values.iterate(v);
                yield l.isEmpty() ? Values.UNDEFINED : l.getFirst();
            }
            case "last" -> {
                List<Object> l = Values.iterate(v);
                yield l.isEmpty() ? Values.UNDEFINED : l.getLast();
            }
            case "list" -> Values.iterate(v);
            case "reverse" -> {
                if (v instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                List<Object> l = Values.iterate(v);
                java.util.Collections.reverse(l);
                yield l;
            }
            case "join" -> {
                List<Object> items = Values.iterate(v);
                Object attribute = kw.get("attribute");
                if (attribute != null) {
                    items.replaceAll(x -> Values.item(x, attribute));
                }
                yield join(items, a0 == null ? Values.str(kw.getOrDefault("d", "")) : Values.str(a0));
            }
            case "items" -> {
                if (!(v instanceof Map<?, ?>)) {
                    yield Values.isUndefined(v) ? new ArrayList<>() : error("items needs a mapping");
                }
                yield method(v, "items").call(List.of(), Map.of());
            }
            case "dictsort" -> {
                List<Object> pairs = Values.iterate(method(v, "items").call(List.of(), Map.of()));
                pairs.sort(Comparator.comparing(p -> Values.str(((List<?>) p).getFirst())));
                yield pairs;
            }
            case "tojson" -> Json.dumps(v, kw.containsKey("indent") ? kw.get("indent") : a0,
                    Values.truthy(kw.getOrDefault("sort_keys", false)), kw.get("separators"));
            case "int" -> toInt(v, a0);
            case "float" -> {
                try {
                    yield v instanceof String s ? Double.parseDouble(s.strip()) : Values.toDouble(v);
                } catch (RuntimeException e) {
                    yield a0 == null ? 0.0 : a0;
                }
            }
            case "abs" -> v instanceof Long l ? (Object) Math.abs(l) : Math.abs(Values.toDouble(v));
            case "round" -> {
                long digits = a0 == null ? 0 : Values.toLong(a0);
                double scale = Math.pow(10, digits);
                yield Math.round(Values.toDouble(v) * scale) / scale;
            }
            case "unique" -> {
                List<Object> out = new ArrayList<>();
                for (Object x : Values.iterate(v)) {
                    if (out.stream().noneMatch(y -> Values.equal(x, y))) {
                        out.add(x);
                    }
                }
                yield out;
            }
            case "sort" -> {
                List<Object> l = Values.iterate(v);
                Object attribute = kw.get("attribute");
                Comparator<Object> by = (x, y) -> Values.compare(attribute == null ? x : Values.item(x, attribute),
                        attribute == null ? y : Values.item(y, attribute));
                l.sort(Values.truthy(kw.getOrDefault("reverse", a0 == null ? false : a0)) ? by.reversed() : by);
                yield l;
            }
            case "min", "max" -> {
                List<Object> l = Values.iterate(v);
                if (l.isEmpty()) {
                    yield Values.UNDEFINED;
                }
                Comparator<Object> by = Values::compare;
                yield name.equals("min") ? l.stream().min(by).orElseThrow() : l.stream().max(by).orElseThrow();
            }
            case "sum" -> {
                Object total = 0L;
                for (Object x : Values.iterate(v)) {
                    total = Values.operate("+", total, kw.containsKey("attribute") ? Values.item(x, kw.get("attribute")) : x);
                }
                yield total;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                for (Object x : Values.iterate(v)) {
                    if (kw.containsKey("attribute")) {
                        Object got = Values.item(x, kw.get("attribute"));
                        out.add(Values.isUndefined(got) && kw.containsKey("default") ? kw.get("default") : got);
                    } else {
                        out.add(filter(Values.str(a0), x, args.subList(1, args.size()), Map.of(), call));
                    }
                }
                yield out;
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object x : Values.iterate(v)) {
                    boolean ok = a0 == null ? Values.truthy(x) : test(Values.str(a0), x, args.subList(1, args.size()));
                    if (ok == name.equals("select")) {
                        out.add(x);
                    }
                }
                yield out;
            }
            case "selectattr", "rejectattr" -> {
                List<Object> out = new ArrayList<>();
                for (Object x : Values.iterate(v)) {
                    Object attr = Values.item(x, a0);
                    boolean ok = args.size() < 2 ? Values.truthy(attr)
                            : test(Values.str(args.get(1)), attr, args.subList(2, args.size()));
                    if (ok == name.equals("selectattr")) {
                        out.add(x);
                    }
                }
                yield out;
            }
            case "attr" -> Values.attribute(v, Values.str(a0));
            case "indent" -> indent(Values.str(v), args.isEmpty() ? kw.getOrDefault("width", 4L) : a0,
                    Values.truthy(args.size() > 1 ? args.get(1) : kw.getOrDefault("first", false)),
                    Values.truthy(args.size() > 2 ? args.get(2) : kw.getOrDefault("blank", false)));
            case "center" -> {
                String s = Values.str(v);
                int width = (int) Values.toLong(a0 == null ? 80L : a0);
                int pad = Math.max(0, width - s.length());
                yield " ".repeat(pad / 2 + (pad % 2 == 1 && width % 2 == 1 ? 1 : 0)) + s + " ".repeat(pad - pad / 2 - (pad % 2 == 1 && width % 2 == 1 ? 1 : 0));
            }
            case "wordcount" -> (long) split(Values.str(v), null, -1).size();
            case "format" -> printf(Values.str(v), args);
            case "batch" -> {
                List<Object> out = new ArrayList<>();
                List<Object> l = Values.iterate(v);
                int size = (int) Values.toLong(a0);
                for (int i = 0; i < l.size(); i += size) {
                    out.add(new ArrayList<>(l.subList(i, Math.min(l.size(), i + size))));
                }
                yield out;
            }
            default -> throw new TemplateException("unknown filter '" + name + "'");
        };
    }

    private static Object error(String message) {
        throw new TemplateException(message);
    }

    private static Object toInt(Object v, Object fallback) {
        try {
            return switch (v) {
                case String s -> Long.parseLong(s.strip());
                case Double d -> (long) (double) d;
                default -> Values.toLong(v);
            };
        } catch (RuntimeException e) {
            return fallback == null ? 0L : fallback;
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
    }

    /** Jinja2's {@code indent}: every line but the first (unless {@code first}) and blank ones (unless {@code blank}). */
    private static String indent(String s, Object width, boolean first, boolean blank) {
        String pad = width instanceof String w ? w : " ".repeat((int) Values.toLong(width));
        String[] lines = s.split("\n", -1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                b.append('\n');
            }
            boolean indentIt = (i > 0 || first) && (blank || !lines[i].isBlank());
            b.append(indentIt ? pad : "").append(lines[i]);
        }
        return b.toString();
    }

    /** Python's {@code json.dumps}, as Hugging Face's {@code tojson} calls it ({@code ensure_ascii=False}). */
    static final class Json {
        private Json() {
        }

        static String dumps(Object v, Object indent, boolean sortKeys, Object separators) {
            String item = ", ";
            String key = ": ";
            String pad = null;
            if (indent != null && indent != Values.UNDEFINED) {
                pad = indent instanceof String s ? s : " ".repeat((int) Values.toLong(indent));
                item = ",";
            }
            if (separators instanceof List<?> l && l.size() == 2) {
                item = Values.str(l.get(0));
                key = Values.str(l.get(1));
            }
            StringBuilder b = new StringBuilder();
            write(b, v, pad, item, key, sortKeys, 0);
            return b.toString();
        }

        private static void write(StringBuilder b, Object v, String pad, String item, String key, boolean sort, int depth) {
            switch (v) {
                case null -> b.append("null");
                case Boolean x -> b.append(x ? "true" : "false");
                case Long x -> b.append(x);
                case Double x -> b.append(Double.isNaN(x) ? "NaN" : Double.isInfinite(x) ? (x > 0 ? "Infinity" : "-Infinity") : Values.pyFloat(x));
                case String s -> string(b, s);
                case List<?> l -> {
                    if (l.isEmpty()) {
                        b.append("[]");
                        return;
                    }
                    b.append('[');
                    for (int i = 0; i < l.size(); i++) {
                        if (i > 0) {
                            b.append(item);
                        }
                        newline(b, pad, depth + 1);
                        write(b, l.get(i), pad, item, key, sort, depth + 1);
                    }
                    newline(b, pad, depth);
                    b.append(']');
                }
                case Map<?, ?> m -> {
                    if (m.isEmpty()) {
                        b.append("{}");
                        return;
                    }
                    List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                    if (sort) {
                        entries.sort(Comparator.comparing(e -> String.valueOf(e.getKey())));
                    }
                    b.append('{');
                    for (int i = 0; i < entries.size(); i++) {
                        if (i > 0) {
                            b.append(item);
                        }
                        newline(b, pad, depth + 1);
                        string(b, String.valueOf(entries.get(i).getKey()));
                        b.append(key);
                        write(b, entries.get(i).getValue(), pad, item, key, sort, depth + 1);
                    }
                    newline(b, pad, depth);
                    b.append('}');
                }
                case Values.Namespace ns -> write(b, ns.attrs(), pad, item, key, sort, depth);
                default -> {
                    if (v == Values.UNDEFINED) {
                        b.append("null");
                    } else {
                        throw new TemplateException("Object of type " + Values.typeName(v) + " is not JSON serializable");
                    }
                }
            }
        }

        private static void newline(StringBuilder b, String pad, int depth) {
            if (pad != null) {
                b.append('\n').append(pad.repeat(depth));
            }
        }

        /** A JSON string as json.dumps writes it with ensure_ascii off (Jackson escapes the same characters). */
        private static void string(StringBuilder b, String s) {
            try {
                b.append(JACKSON.writeValueAsString(s));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new TemplateException("cannot write " + Values.repr(s) + " as JSON");
            }
        }

        private static final com.fasterxml.jackson.databind.ObjectMapper JACKSON = new com.fasterxml.jackson.databind.ObjectMapper();
    }
}

package io.corral.llamacpp.template;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Template values with Python's semantics. In a template: {@link String}, {@link Long}, {@link Double},
 * {@link Boolean}, {@link List}, {@link Map} (string keys, in order), null (None), {@link #UNDEFINED},
 * {@link Namespace}, {@link Fn}.
 */
final class Values {

    private Values() {
    }

    /** What a name or key that does not exist evaluates to: prints as nothing, is false, iterates as empty. */
    static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "";
        }
    };

    /**
     * The most items a template may make in one list or string ({@code range}, {@code *}): a template comes
     * with a model file, and one that asks for more is refused rather than allowed to exhaust memory.
     */
    static final long MAX_ITEMS = 1_000_000;

    static void checkSize(long n) {
        if (n > MAX_ITEMS) {
            throw new TemplateException("the template asks for " + n + " items; at most " + MAX_ITEMS + " are allowed");
        }
    }

    /** A callable: a builtin, a bound method, a macro. */
    @FunctionalInterface
    interface Fn {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** {@code namespace(...)}: attributes a loop body may set and read after it. */
    record Namespace(Map<String, Object> attrs) {
    }

    /** A Java value passed in, as a template value (ints as Long, floats as Double, records of maps and lists). */
    static Object from(Object v) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Integer i -> (long) i;
            case Long l -> l;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Double d -> d;
            case BigDecimal d -> d.doubleValue();
            case Map<?, ?> m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put(String.valueOf(k), from(x)));
                yield out;
            }
            case Iterable<?> it -> {
                List<Object> out = new ArrayList<>();
                it.forEach(x -> out.add(from(x)));
                yield out;
            }
            case Object[] a -> from(List.of(a));
            default -> v == UNDEFINED || v instanceof Fn || v instanceof Namespace ? v : v.toString();
        };
    }

    static boolean isUndefined(Object v) {
        return v == UNDEFINED;
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> v != UNDEFINED;
        };
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> "str";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "namespace";
            case Fn f -> "function";
            default -> v == UNDEFINED ? "undefined" : v.getClass().getSimpleName();
        };
    }

    /** Python's {@code str()}. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> pyFloat(d);
            case List<?> l -> repr(l);
            case Map<?, ?> m -> repr(m);
            default -> v == UNDEFINED ? "" : v instanceof Namespace n ? "<Namespace " + repr(n.attrs()) + ">" : v.toString();
        };
    }

    /** Python's {@code repr()}: strings quoted, lists and dicts as Python writes them. */
    static String repr(Object v) {
        return switch (v) {
            case String s -> {
                String q = s.contains("'") && !s.contains("\"") ? "\"" : "'";
                StringBuilder b = new StringBuilder(q);
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    switch (c) {
                        case '\\' -> b.append("\\\\");
                        case '\n' -> b.append("\\n");
                        case '\r' -> b.append("\\r");
                        case '\t' -> b.append("\\t");
                        default -> {
                            if (String.valueOf(c).equals(q)) {
                                b.append('\\');
                            }
                            if (c < 0x20 || c == 0x7f) {
                                b.append(String.format("\\x%02x", (int) c));
                            } else {
                                b.append(c);
                            }
                        }
                    }
                }
                yield b.append(q).toString();
            }
            case List<?> l -> {
                StringBuilder b = new StringBuilder("[");
                for (int i = 0; i < l.size(); i++) {
                    b.append(i > 0 ? ", " : "").append(repr(l.get(i)));
                }
                yield b.append(']').toString();
            }
            case Map<?, ?> m -> {
                StringBuilder b = new StringBuilder("{");
                boolean first = true;
                for (var e : m.entrySet()) {
                    b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                    first = false;
                }
                yield b.append('}').toString();
            }
            case null -> "None";
            default -> v == UNDEFINED ? "Undefined" : str(v);
        };
    }

    /** Python's {@code repr(float)}: the shortest digits that read back, {@code 1.0}, {@code 1e-05}, {@code 1e+16}. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = exact.precision() - exact.scale() - 1; // of the leading digit
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = exact.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    static List<Object> iterate(Object v) {
        return switch (v) {
            case null -> throw new TemplateException("'NoneType' object is not iterable");
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
                yield chars;
            }
            default -> {
                if (v == UNDEFINED) {
                    yield new ArrayList<>();
                }
                throw new TemplateException("'" + typeName(v) + "' object is not iterable");
            }
        };
    }

    /** {@code x.name}: a method of a string, list or dict first, then the dict's key (as Jinja2 looks up). */
    static Object attribute(Object owner, String name) {
        if (owner instanceof Namespace ns) {
            return ns.attrs().containsKey(name) ? ns.attrs().get(name) : UNDEFINED;
        }
        Object method = Builtins.method(owner, name);
        if (method != null) {
            return method;
        }
        if (owner instanceof Map<?, ?> m) {
            return m.containsKey(name) ? m.get(name) : UNDEFINED;
        }
        if (owner instanceof List<?> l && name.chars().allMatch(Character::isDigit)) {
            return item(l, Long.parseLong(name));
        }
        return UNDEFINED;
    }

    /** {@code x[key]}: the key or index first, then an attribute. */
    static Object item(Object owner, Object key) {
        if (owner instanceof Map<?, ?> m) {
            String k = key instanceof String s ? s : str(key);
            if (m.containsKey(k)) {
                return m.get(k);
            }
            return key instanceof String s ? attribute(owner, s) : UNDEFINED;
        }
        if ((owner instanceof List<?> || owner instanceof String) && (key instanceof Long || key instanceof Boolean)) {
            long i = key instanceof Boolean b ? (b ? 1 : 0) : (Long) key;
            if (owner instanceof List<?> l) {
                long at = i < 0 ? l.size() + i : i;
                return at >= 0 && at < l.size() ? l.get((int) at) : UNDEFINED;
            }
            String s = (String) owner;
            long at = i < 0 ? s.length() + i : i;
            return at >= 0 && at < s.length() ? String.valueOf(s.charAt((int) at)) : UNDEFINED;
        }
        if (owner instanceof Namespace && key instanceof String s) {
            return attribute(owner, s);
        }
        if (key instanceof String s && owner != null && owner != UNDEFINED) {
            return attribute(owner, s);
        }
        return UNDEFINED;
    }

    /** {@code x[a:b:c]} on a list or a string, as Python slices. */
    static Object slice(Object owner, Object start, Object stop, Object step) {
        List<Object> items;
        if (owner instanceof String s) {
            items = iterate(s);
        } else if (owner instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else {
            throw new TemplateException("cannot slice " + typeName(owner));
        }
        int n = items.size();
        long st = step == null ? 1 : toLong(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        long lo;
        long hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(toLong(start), n, 0, n);
            hi = stop == null ? n : clamp(toLong(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(toLong(start), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(toLong(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            out.add(items.get((int) i));
        }
        if (owner instanceof String) {
            StringBuilder b = new StringBuilder();
            out.forEach(b::append);
            return b.toString();
        }
        return out;
    }

    private static long clamp(long i, int n, long min, long max) {
        long v = i < 0 ? i + n : i;
        return Math.max(min, Math.min(max, v));
    }

    static long toLong(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> (long) (double) d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new TemplateException("expected an integer, got " + typeName(v));
        };
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new TemplateException("expected a number, got " + typeName(v));
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static Object negate(Object v) {
        if (v instanceof Long l) {
            return -l;
        }
        if (v instanceof Double d) {
            return -d;
        }
        throw new TemplateException("bad operand for unary -: " + typeName(v));
    }

    /** Python's {@code ==}. */
    static boolean equal(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null || a == UNDEFINED || b == UNDEFINED) {
            return false;
        }
        if (isNumber(a) && isNumber(b) && !(a instanceof Boolean && b instanceof Boolean)) {
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        throw new TemplateException("cannot compare " + typeName(a) + " with " + typeName(b));
    }

    static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s -> item instanceof String x ? s.contains(x) : false;
            case List<?> l -> l.stream().anyMatch(x -> equal(x, item));
            case Map<?, ?> m -> m.containsKey(item instanceof String s ? s : str(item));
            case null -> throw new TemplateException("argument of type 'NoneType' is not iterable");
            default -> {
                if (container == UNDEFINED) {
                    yield false;
                }
                throw new TemplateException("argument of type '" + typeName(container) + "' is not iterable");
            }
        };
    }

    static Object operate(String op, Object a, Object b) {
        switch (op) {
            case "==":
                return equal(a, b);
            case "!=":
                return !equal(a, b);
            case "<":
                return compare(a, b) < 0;
            case ">":
                return compare(a, b) > 0;
            case "<=":
                return compare(a, b) <= 0;
            case ">=":
                return compare(a, b) >= 0;
            case "in":
                return contains(b, a);
            case "~":
                return str(a) + str(b);
            default:
                break;
        }
        if (op.equals("+")) {
            if (a instanceof String x && b instanceof String y) {
                return x + y;
            }
            if (a instanceof List<?> x && b instanceof List<?> y) {
                List<Object> out = new ArrayList<>(x);
                out.addAll(y);
                return out;
            }
        }
        if (op.equals("*") && (a instanceof String || a instanceof List<?>) && b instanceof Long n) {
            checkSize(n * (a instanceof String s ? s.length() : ((List<?>) a).size()));
            if (a instanceof String s) {
                return s.repeat((int) Math.max(0, n));
            }
            List<Object> out = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                out.addAll((List<?>) a);
            }
            return out;
        }
        if (op.equals("%") && a instanceof String s) {
            return Builtins.printf(s, b instanceof List<?> l ? new ArrayList<>(l) : List.of(b));
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw new TemplateException("unsupported operand types for " + op + ": " + typeName(a) + " and " + typeName(b));
        }
        boolean ints = !(a instanceof Double) && !(b instanceof Double);
        return switch (op) {
            case "+" -> ints ? (Object) (toLong(a) + toLong(b)) : toDouble(a) + toDouble(b);
            case "-" -> ints ? (Object) (toLong(a) - toLong(b)) : toDouble(a) - toDouble(b);
            case "*" -> ints ? (Object) (toLong(a) * toLong(b)) : toDouble(a) * toDouble(b);
            case "/" -> {
                if (toDouble(b) == 0) {
                    throw new TemplateException("division by zero");
                }
                yield toDouble(a) / toDouble(b);
            }
            case "//" -> {
                if (toDouble(b) == 0) {
                    throw new TemplateException("division by zero");
                }
                yield ints ? (Object) Math.floorDiv(toLong(a), toLong(b)) : Math.floor(toDouble(a) / toDouble(b));
            }
            case "%" -> {
                if (toDouble(b) == 0) {
                    throw new TemplateException("modulo by zero");
                }
                yield ints ? (Object) Math.floorMod(toLong(a), toLong(b))
                        : toDouble(a) - toDouble(b) * Math.floor(toDouble(a) / toDouble(b));
            }
            case "**" -> ints && toLong(b) >= 0 ? (Object) (long) Math.pow(toLong(a), toLong(b)) : Math.pow(toDouble(a), toDouble(b));
            default -> throw new TemplateException("unknown operator " + op);
        };
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}

package io.corral.spi;

import io.corral.api.InvalidRequestException;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A condition on a chunk's attributes, as OpenAI's vector store search takes it: a comparison of one key with
 * a value ({@code eq}, {@code ne}, {@code gt}, {@code gte}, {@code lt}, {@code lte}, {@code in}, {@code nin}) or
 * several joined by {@code and} / {@code or}. Values are strings, numbers or booleans (a list for {@code in}
 * and {@code nin}). A store translates it into its own query; {@link #test} is what it must mean.
 */
public sealed interface Filter {

    enum Op { EQ, NE, GT, GTE, LT, LTE, IN, NIN }

    record Comparison(String key, Op op, Object value) implements Filter {
        public Comparison {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(op, "op");
            if ((op == Op.IN || op == Op.NIN) != value instanceof List<?>) {
                throw new InvalidRequestException("filters", "filter " + op.name().toLowerCase(java.util.Locale.ROOT) + " on " + key
                        + (value instanceof List<?> ? " takes one value, not a list" : " takes a list of values"));
            }
            if (value instanceof List<?> l) {
                l.forEach(v -> scalar(key, v));
                value = List.copyOf(l);
            } else {
                scalar(key, value);
            }
        }

        private static void scalar(String key, Object v) {
            if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) {
                throw new InvalidRequestException("filters", "filter value of " + key + " must be a string, number or boolean");
            }
        }
    }

    record Compound(boolean and, List<Filter> filters) implements Filter {
        public Compound {
            filters = List.copyOf(filters);
        }
    }

    /**
     * OpenAI's filter JSON (as plain Java values: maps, lists, strings, numbers, booleans): comparisons ({@code type}
     * eq, ne, gt, gte, lt, lte, in, nin; {@code key}; {@code value}) and compounds ({@code and}, {@code or} with
     * {@code filters}). What is wrong is an {@link io.corral.api.InvalidRequestException} on {@code filters}, naming where.
     */
    static Filter parse(Object json, String where) {
        if (!(json instanceof java.util.Map<?, ?> f) || f.get("type") == null) {
            throw new io.corral.api.InvalidRequestException("filters", where + " must be an object with a type");
        }
        String type = String.valueOf(f.get("type")).toLowerCase(java.util.Locale.ROOT);
        if (type.equals("and") || type.equals("or")) {
            if (!(f.get("filters") instanceof List<?> list)) {
                throw new io.corral.api.InvalidRequestException("filters", where + ".filters must be a list");
            }
            List<Filter> parts = new java.util.ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                parts.add(parse(list.get(i), where + ".filters[" + i + "]"));
            }
            return new Compound(type.equals("and"), parts);
        }
        Op op;
        try {
            op = Op.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new io.corral.api.InvalidRequestException("filters", where + ".type must be eq, ne, gt, gte, lt, lte, in, nin, and or or; was '" + type + "'");
        }
        if (!(f.get("key") instanceof String key)) {
            throw new io.corral.api.InvalidRequestException("filters", where + ".key is required");
        }
        Object v = f.get("value");
        if (!(v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof List<?>)) {
            throw new io.corral.api.InvalidRequestException("filters", where + ".value must be a string, number or boolean");
        }
        return new Comparison(key, op, v);
    }

    static Filter eq(String key, Object value) {
        return new Comparison(key, Op.EQ, value);
    }

    static Filter and(Filter... filters) {
        return new Compound(true, List.of(filters));
    }

    /**
     * A store's own query language for filters: what each kind of condition becomes. {@link #translate} walks a
     * filter with one, so every store reads filters the same way and only says how each part is written.
     */
    interface Translator<T> {
        /** The attribute equals the value (a string, number or boolean). */
        T equal(String key, Object value);

        /** The attribute is above or below the value ({@code op} one of gt, gte, lt, lte). */
        T range(String key, Op op, Object value);

        /** Everything but what {@code q} matches (a missing attribute included). */
        T not(T q);

        T and(List<T> all);

        /** At least one of them. */
        T or(List<T> any);

        /** Nothing at all (an empty {@code or}). */
        T none();

        /** Everything (an empty {@code and}). */
        T all();
    }

    /** This filter in a store's query language. */
    default <T> T translate(Translator<T> t) {
        return switch (this) {
            case Compound c when c.filters().isEmpty() -> c.and() ? t.all() : t.none();
            case Compound c -> {
                List<T> parts = c.filters().stream().map(f -> f.translate(t)).toList();
                yield c.and() ? t.and(parts) : t.or(parts);
            }
            case Comparison c -> switch (c.op()) {
                case EQ -> t.equal(c.key(), c.value());
                case NE -> t.not(t.equal(c.key(), c.value()));
                case IN -> t.or(((List<?>) c.value()).stream().map(v -> t.equal(c.key(), v)).toList());
                case NIN -> t.not(t.or(((List<?>) c.value()).stream().map(v -> t.equal(c.key(), v)).toList()));
                // booleans have no order: nothing matches, as test() says
                case GT, GTE, LT, LTE -> c.value() instanceof Boolean ? t.none() : t.range(c.key(), c.op(), c.value());
            };
        };
    }

    /** Whether {@code attributes} satisfy this filter (a missing key satisfies only {@code ne} and {@code nin}). */
    default boolean test(Map<String, Object> attributes) {
        return switch (this) {
            case Compound c -> c.and()
                    ? c.filters().stream().allMatch(f -> f.test(attributes))
                    : c.filters().stream().anyMatch(f -> f.test(attributes));
            case Comparison c -> {
                Object actual = attributes.get(c.key());
                yield switch (c.op()) {
                    case EQ -> same(actual, c.value());
                    case NE -> !same(actual, c.value());
                    case IN -> ((List<?>) c.value()).stream().anyMatch(v -> same(actual, v));
                    case NIN -> ((List<?>) c.value()).stream().noneMatch(v -> same(actual, v));
                    case GT, GTE, LT, LTE -> {
                        Integer cmp = compare(actual, c.value());
                        yield cmp != null && switch (c.op()) {
                            case GT -> cmp > 0;
                            case GTE -> cmp >= 0;
                            case LT -> cmp < 0;
                            default -> cmp <= 0;
                        };
                    }
                };
            }
        };
    }

    /** Equal as filter values: numbers by value, whatever their type. */
    static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() == y.doubleValue();
        }
        return a != null && a.equals(b);
    }

    /** The order of two numbers or two strings; null when they cannot be compared. */
    static Integer compare(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return Double.compare(x.doubleValue(), y.doubleValue());
        }
        if (a instanceof String x && b instanceof String y) {
            return Integer.signum(x.compareTo(y));
        }
        return null;
    }
}

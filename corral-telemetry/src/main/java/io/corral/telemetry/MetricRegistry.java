package io.corral.telemetry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Counters, histograms and gauges with labels, written in the Prometheus text exposition format
 * (version 0.0.4) by {@link #write}. Updates are lock-free. Each metric holds at most
 * {@link #MAX_SERIES} label combinations; further ones are counted under {@code other}, so label values
 * that clients choose (a model id) cannot grow memory without bound.
 */
public final class MetricRegistry {

    /** The most label combinations one metric keeps. */
    public static final int MAX_SERIES = 500;

    /** Seconds: from a millisecond to ten minutes, for request latency and time to first token. */
    public static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
            30, 60, 120, 300, 600};

    private final List<Metric> metrics = new ArrayList<>();

    private abstract static sealed class Metric permits Counter, Histogram, Gauge {
        final String name;
        final String help;
        final String[] labels;

        Metric(String name, String help, String[] labels) {
            if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
                throw new IllegalArgumentException("not a Prometheus metric name: " + name);
            }
            this.name = name;
            this.help = help;
            this.labels = labels.clone();
        }

        abstract String type();

        abstract void samples(StringBuilder out);

        /** The series key for these label values, or {@code other} values once the metric is full. */
        <V> V series(Map<List<String>, V> all, String[] values, java.util.function.Function<List<String>, V> make) {
            if (values.length != labels.length) {
                throw new IllegalArgumentException(name + " takes " + labels.length + " label values, got " + values.length);
            }
            List<String> key = Arrays.asList(values.clone());
            V v = all.get(key);
            if (v != null) {
                return v;
            }
            if (all.size() >= MAX_SERIES) {
                String[] other = new String[values.length];
                Arrays.fill(other, "other");
                key = Arrays.asList(other);
            }
            return all.computeIfAbsent(key, make);
        }

        void labelSet(StringBuilder out, List<String> values, String extraName, String extraValue) {
            if (labels.length == 0 && extraName == null) {
                return;
            }
            out.append('{');
            for (int i = 0; i < labels.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"").append(escape(values.get(i))).append('"');
            }
            if (extraName != null) {
                out.append(labels.length > 0 ? "," : "").append(extraName).append("=\"").append(extraValue).append('"');
            }
            out.append('}');
        }
    }

    /** A count that only goes up. */
    public static final class Counter extends Metric {
        private final Map<List<String>, DoubleAdder> series = new ConcurrentHashMap<>();

        private Counter(String name, String help, String[] labels) {
            super(name, help, labels);
        }

        public void inc(String... labelValues) {
            add(1, labelValues);
        }

        public void add(double amount, String... labelValues) {
            if (amount < 0) {
                throw new IllegalArgumentException("a counter only goes up: " + amount);
            }
            series(series, labelValues, k -> new DoubleAdder()).add(amount);
        }

        String type() {
            return "counter";
        }

        void samples(StringBuilder out) {
            series.forEach((k, v) -> {
                out.append(name);
                labelSet(out, k, null, null);
                out.append(' ').append(number(v.sum())).append('\n');
            });
        }
    }

    /** Observations counted into cumulative buckets, with their sum and count. */
    public static final class Histogram extends Metric {
        private final double[] bounds;
        private final Map<List<String>, Cells> series = new ConcurrentHashMap<>();

        private record Cells(LongAdder[] buckets, DoubleAdder sum, LongAdder count) {
        }

        private Histogram(String name, String help, double[] bounds, String[] labels) {
            super(name, help, labels);
            this.bounds = bounds.clone();
            for (int i = 1; i < bounds.length; i++) {
                if (bounds[i] <= bounds[i - 1]) {
                    throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(bounds));
                }
            }
        }

        public void observe(double value, String... labelValues) {
            Cells c = series(series, labelValues, k -> {
                LongAdder[] b = new LongAdder[bounds.length];
                Arrays.setAll(b, i -> new LongAdder());
                return new Cells(b, new DoubleAdder(), new LongAdder());
            });
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    c.buckets()[i].increment(); // counted in its own bucket; made cumulative when written
                    break;
                }
            }
            c.sum().add(value);
            c.count().increment();
        }

        String type() {
            return "histogram";
        }

        void samples(StringBuilder out) {
            series.forEach((k, c) -> {
                long cumulative = 0;
                for (int i = 0; i < bounds.length; i++) {
                    cumulative += c.buckets()[i].sum();
                    out.append(name).append("_bucket");
                    labelSet(out, k, "le", number(bounds[i]));
                    out.append(' ').append(cumulative).append('\n');
                }
                long count = c.count().sum();
                out.append(name).append("_bucket");
                labelSet(out, k, "le", "+Inf");
                out.append(' ').append(count).append('\n');
                out.append(name).append("_sum");
                labelSet(out, k, null, null);
                out.append(' ').append(number(c.sum().sum())).append('\n');
                out.append(name).append("_count");
                labelSet(out, k, null, null);
                out.append(' ').append(count).append('\n');
            });
        }
    }

    /** A value read when scraped: the callback reports each series as label values and a number. */
    public static final class Gauge extends Metric {
        /** Takes one series' label values and value. */
        public interface Sink {
            void set(double value, String... labelValues);
        }

        private final Consumer<Sink> read;

        private Gauge(String name, String help, String[] labels, Consumer<Sink> read) {
            super(name, help, labels);
            this.read = read;
        }

        String type() {
            return "gauge";
        }

        void samples(StringBuilder out) {
            read.accept((value, values) -> {
                if (values.length != labels.length) {
                    throw new IllegalArgumentException(name + " takes " + labels.length + " label values");
                }
                out.append(name);
                labelSet(out, Arrays.asList(values), null, null);
                out.append(' ').append(number(value)).append('\n');
            });
        }
    }

    public synchronized Counter counter(String name, String help, String... labels) {
        return add(new Counter(name, help, labels));
    }

    public synchronized Histogram histogram(String name, String help, double[] buckets, String... labels) {
        return add(new Histogram(name, help, buckets, labels));
    }

    public synchronized Gauge gauge(String name, String help, Consumer<Gauge.Sink> read, String... labels) {
        return add(new Gauge(name, help, labels, read));
    }

    private <M extends Metric> M add(M m) {
        for (Metric existing : metrics) {
            if (existing.name.equals(m.name)) {
                throw new IllegalStateException("metric " + m.name + " is registered twice");
            }
        }
        metrics.add(m);
        return m;
    }

    /** The Prometheus text format (content type {@code text/plain; version=0.0.4}). */
    public String write() {
        StringBuilder out = new StringBuilder(4096);
        List<Metric> all;
        synchronized (this) {
            all = List.copyOf(metrics);
        }
        for (Metric m : all) {
            out.append("# HELP ").append(m.name).append(' ').append(m.help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
            out.append("# TYPE ").append(m.name).append(' ').append(m.type()).append('\n');
            try {
                m.samples(out);
            } catch (RuntimeException e) { // a gauge's callback must not break the scrape
                System.getLogger("corral.telemetry").log(System.Logger.Level.WARNING, "metric " + m.name + " failed", e);
            }
        }
        return out.toString();
    }

    private static String escape(String v) {
        return v == null ? "" : v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }
}

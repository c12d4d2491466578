package io.corral.telemetry;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in trace store: ended spans in SQLite (one file), bounded in count and age, and the queries
 * Llama Stack's telemetry API asks (traces by attribute, a trace, a span, a span's tree). A trace is found
 * by an attribute on any of its spans. Its schema is versioned ({@code PRAGMA user_version}).
 */
public final class TraceStore {

    /** A trace: its root span and when it began and ended (epoch nanoseconds). */
    public record Trace(String traceId, String rootSpanId, long startNanos, long endNanos) {
    }

    /** A stored span; {@code attributes} as JSON values (strings, numbers, booleans). */
    public record StoredSpan(String spanId, String traceId, String parentSpanId, String name, long startNanos, long endNanos,
                             String status, Map<String, Object> attributes) {
    }

    /** {@code key op value}, op one of {@code eq}, {@code ne}, {@code gt}, {@code lt}. */
    public record Condition(String key, String op, Object value) {
        public Condition {
            if (!List.of("eq", "ne", "gt", "lt").contains(op)) {
                throw new IllegalArgumentException("op must be eq, ne, gt or lt, was '" + op + "'");
            }
            if (key == null || key.isBlank()) {
                throw new IllegalArgumentException("key is required");
            }
            if (key.length() > 256 || key.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '"' || c == '\\')) {
                throw new IllegalArgumentException("a key is an attribute's name: at most 256 characters, no control characters, "
                        + "quotes or backslashes");
            }
        }
    }

    private static final int SCHEMA = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Connection db;
    private final int maxSpans;
    private final Duration retention;
    private long rows;              // spans stored, kept as spans come and go (no COUNT per write)
    private long nextAgeCheck;      // System.nanoTime() of the next retention pass

    private TraceStore(Connection db, int maxSpans, Duration retention, long rows) {
        this.db = db;
        this.maxSpans = maxSpans;
        this.retention = retention;
        this.rows = rows;
    }

    public static TraceStore open(Path file, int maxSpans, Duration retention) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=NORMAL"); // with WAL: durable across a crash of Corral, not of the machine
                int version;
                try (ResultSet r = s.executeQuery("PRAGMA user_version")) {
                    version = r.next() ? r.getInt(1) : 0;
                }
                if (version > SCHEMA) {
                    throw new IllegalStateException("trace store " + file + " has schema " + version + "; this Corral knows " + SCHEMA);
                }
                if (version < 1) {
                    s.execute("""
                            CREATE TABLE IF NOT EXISTS spans (
                              span_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, parent_span_id TEXT, is_root INTEGER NOT NULL,
                              name TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status TEXT NOT NULL,
                              attributes TEXT NOT NULL)""");
                    s.execute("CREATE INDEX IF NOT EXISTS spans_trace ON spans(trace_id)");
                    s.execute("CREATE INDEX IF NOT EXISTS spans_start ON spans(start_ns)");
                    s.execute("PRAGMA user_version = 1");
                }
                if (version < 2) {
                    // a span's children: a tree, and query_spans with max_depth, scanned every span per level without it
                    s.execute("CREATE INDEX IF NOT EXISTS spans_parent ON spans(parent_span_id)");
                    s.execute("PRAGMA user_version = 2");
                }
            }
            long rows;
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM spans")) {
                rows = r.next() ? r.getLong(1) : 0;
            }
            return new TraceStore(c, maxSpans, retention, rows);
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot open the trace store " + file + ": " + e.getMessage(), e);
        }
    }

    /** Stores ended spans in one transaction; false (logged) when the write failed. */
    public synchronized boolean write(Collection<SpanData> spans) {
        try {
            PreparedStatement p = insert();
            db.setAutoCommit(false);
            for (SpanData s : spans) {
                boolean root = !s.getParentSpanContext().isValid() || s.getParentSpanContext().isRemote();
                Map<String, Object> attrs = new LinkedHashMap<>();
                s.getAttributes().forEach((AttributeKey<?> k, Object v) -> attrs.put(k.getKey(), v));
                p.setString(1, s.getSpanId());
                p.setString(2, s.getTraceId());
                p.setString(3, s.getParentSpanContext().isValid() ? s.getParentSpanId() : null);
                p.setInt(4, root ? 1 : 0);
                p.setString(5, s.getName());
                p.setLong(6, s.getStartEpochNanos());
                p.setLong(7, s.getEndEpochNanos());
                p.setString(8, s.getStatus().getStatusCode() == StatusCode.ERROR ? "error" : "ok");
                p.setString(9, json(attrs));
                p.addBatch();
            }
            p.executeBatch();
            rows += spans.size();
            prune();
            db.commit();
            return true;
        } catch (SQLException e) {
            rollback();
            System.getLogger("corral.telemetry").log(System.Logger.Level.WARNING, "trace store write failed: " + e.getMessage());
            return false;
        } finally {
            autoCommit();
        }
    }

    private PreparedStatement insert;

    private PreparedStatement insert() throws SQLException {
        if (insert == null) {
            insert = db.prepareStatement("INSERT OR REPLACE INTO spans VALUES (?,?,?,?,?,?,?,?,?)");
        }
        return insert;
    }

    /** Attributes as a JSON object: strings, numbers, booleans and their lists, written directly. */
    private static String json(Map<String, Object> attrs) {
        StringBuilder b = new StringBuilder(64 + attrs.size() * 32).append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : attrs.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            string(b, e.getKey());
            b.append(':');
            value(b, e.getValue());
        }
        return b.append('}').toString();
    }

    private static void value(StringBuilder b, Object v) {
        switch (v) {
            case String s -> string(b, s);
            case Double d when d.isNaN() || d.isInfinite() -> b.append("null");
            case Number n -> b.append(n);
            case Boolean bool -> b.append(bool);
            case List<?> list -> {
                b.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    value(b, list.get(i));
                }
                b.append(']');
            }
            default -> string(b, String.valueOf(v));
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /**
     * Drops the oldest spans beyond the bound, a tenth of it at a time (so this runs once per tenth, and
     * walks only what it deletes from the start index), and, once a minute, spans past the retention.
     */
    private void prune() throws SQLException {
        if (rows > maxSpans + Math.max(1, maxSpans / 10)) {
            try (PreparedStatement over = db.prepareStatement(
                    "DELETE FROM spans WHERE span_id IN (SELECT span_id FROM spans ORDER BY start_ns LIMIT ?)")) {
                over.setLong(1, rows - maxSpans);
                over.executeUpdate();
            }
            rows = count(); // counted again, not from the update count (a subquery's DELETE may not report it)
        }
        long now = System.nanoTime();
        if (now - nextAgeCheck >= 0) {
            nextAgeCheck = now + 60_000_000_000L;
            try (PreparedStatement old = db.prepareStatement("DELETE FROM spans WHERE start_ns < ?")) {
                Instant cutoff = Instant.now().minus(retention);
                old.setLong(1, cutoff.getEpochSecond() * 1_000_000_000L + cutoff.getNano());
                if (old.executeUpdate() != 0) {
                    rows = count();
                }
            }
        }
    }

    private long count() throws SQLException {
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM spans")) {
            return r.next() ? r.getLong(1) : 0;
        }
    }

    /** The attribute a request's root span carries: whose request it was (the API key's tenant), when keys are used. */
    public static final String OWNER = "corral.owner";

    /**
     * Traces with a span matching every condition, ordered by {@code orderBy} ({@code start_time}, {@code -end_time}, ...);
     * with an {@code owner}, only the traces whose root names it.
     */
    public synchronized List<Trace> queryTraces(String owner, List<Condition> conditions, int limit, int offset, List<String> orderBy) {
        StringBuilder sql = new StringBuilder("SELECT trace_id, span_id, start_ns, end_ns FROM spans r WHERE is_root = 1");
        List<Object> args = new ArrayList<>();
        if (owner != null) {
            sql.append(" AND ");
            condition(sql, args, new Condition(OWNER, "eq", owner), "r");
        }
        for (Condition c : conditions) {
            sql.append(" AND EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = r.trace_id AND ");
            condition(sql, args, c, "s");
            sql.append(')');
        }
        sql.append(" ORDER BY ").append(order(orderBy)).append(" LIMIT ? OFFSET ?");
        args.add(limit);
        args.add(offset);
        List<Trace> traces = new ArrayList<>();
        query(sql.toString(), args, r -> traces.add(new Trace(r.getString(1), r.getString(2), r.getLong(3), r.getLong(4))));
        return traces;
    }

    /** Whether the trace's root names {@code owner} (null: anyone's). */
    public synchronized boolean ownedBy(String traceId, String owner) {
        if (owner == null) {
            return true;
        }
        StringBuilder sql = new StringBuilder("SELECT 1 FROM spans o WHERE o.trace_id = ? AND o.is_root = 1 AND ");
        List<Object> args = new ArrayList<>(List.of(traceId));
        condition(sql, args, new Condition(OWNER, "eq", owner), "o");
        List<Boolean> found = new ArrayList<>();
        query(sql.toString(), args, r -> found.add(true));
        return !found.isEmpty();
    }

    public synchronized Trace trace(String traceId) {
        List<Trace> t = new ArrayList<>();
        query("SELECT trace_id, span_id, start_ns, end_ns FROM spans WHERE trace_id = ? AND is_root = 1 ORDER BY start_ns LIMIT 1",
                List.of(traceId), r -> t.add(new Trace(r.getString(1), r.getString(2), r.getLong(3), r.getLong(4))));
        return t.isEmpty() ? null : t.getFirst();
    }

    public synchronized StoredSpan span(String traceId, String spanId) {
        List<StoredSpan> s = new ArrayList<>();
        query("SELECT * FROM spans WHERE trace_id = ? AND span_id = ?", List.of(traceId, spanId), r -> s.add(span(r)));
        return s.isEmpty() ? null : s.getFirst();
    }

    /** The span and its descendants, down to {@code maxDepth} levels below it (negative: all). */
    public synchronized List<StoredSpan> tree(String spanId, int maxDepth) {
        List<StoredSpan> spans = new ArrayList<>();
        query("""
                WITH RECURSIVE tree(span_id, depth) AS (
                  SELECT span_id, 0 FROM spans WHERE span_id = ?
                  UNION ALL
                  SELECT s.span_id, t.depth + 1 FROM spans s JOIN tree t ON s.parent_span_id = t.span_id
                  WHERE ? < 0 OR t.depth < ?)
                SELECT s.* FROM spans s JOIN tree t ON s.span_id = t.span_id ORDER BY s.start_ns""",
                List.of(spanId, maxDepth, maxDepth), r -> spans.add(span(r)));
        return spans;
    }

    /**
     * Spans whose own attributes match every condition, each with its descendants to {@code maxDepth} (negative: none);
     * with an {@code owner}, only spans of the traces whose root names it.
     */
    public synchronized List<StoredSpan> querySpans(String owner, List<Condition> conditions, int maxDepth, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM spans r WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (owner != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM spans o WHERE o.trace_id = r.trace_id AND o.is_root = 1 AND ");
            condition(sql, args, new Condition(OWNER, "eq", owner), "o");
            sql.append(')');
        }
        for (Condition c : conditions) {
            sql.append(" AND ");
            condition(sql, args, c, "r");
        }
        sql.append(" ORDER BY start_ns LIMIT ?");
        args.add(limit);
        List<StoredSpan> found = new ArrayList<>();
        query(sql.toString(), args, r -> found.add(span(r)));
        if (maxDepth <= 0) {
            return found;
        }
        Map<String, StoredSpan> all = new LinkedHashMap<>();
        for (StoredSpan s : found) {
            for (StoredSpan t : tree(s.spanId(), maxDepth)) {
                all.putIfAbsent(t.spanId(), t);
            }
        }
        return new ArrayList<>(all.values());
    }

    private static void condition(StringBuilder sql, List<Object> args, Condition c, String alias) {
        String op = switch (c.op()) {
            case "eq" -> "=";
            case "ne" -> "!=";
            case "gt" -> ">";
            default -> "<";
        };
        sql.append("json_extract(").append(alias).append(".attributes, ?) ").append(op).append(" ?");
        args.add("$.\"" + c.key().replace("\"", "") + "\"");
        args.add(c.value() instanceof Boolean b ? (b ? 1 : 0) : c.value());
    }

    private static String order(List<String> orderBy) {
        List<String> parts = new ArrayList<>();
        for (String o : orderBy) {
            boolean desc = o.startsWith("-");
            String column = switch (desc ? o.substring(1) : o) {
                case "start_time" -> "start_ns";
                case "end_time" -> "end_ns";
                case "trace_id" -> "trace_id";
                default -> throw new IllegalArgumentException("order_by takes start_time, end_time or trace_id (with - for "
                        + "descending), was '" + o + "'");
            };
            parts.add(column + (desc ? " DESC" : ""));
        }
        return parts.isEmpty() ? "start_ns DESC" : String.join(", ", parts);
    }

    private interface Row {
        void take(ResultSet r) throws SQLException;
    }

    private void query(String sql, List<Object> args, Row row) {
        try (PreparedStatement p = db.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                p.setObject(i + 1, args.get(i));
            }
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    row.take(r);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("trace store query failed: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static StoredSpan span(ResultSet r) throws SQLException {
        Map<String, Object> attrs;
        try {
            attrs = JSON.readValue(r.getString("attributes"), LinkedHashMap.class);
        } catch (IOException e) {
            attrs = Map.of();
        }
        String parent = r.getString("parent_span_id");
        return new StoredSpan(r.getString("span_id"), r.getString("trace_id"), r.getInt("is_root") == 1 ? null : parent,
                r.getString("name"), r.getLong("start_ns"), r.getLong("end_ns"), r.getString("status"), attrs);
    }

    private void rollback() {
        try {
            db.rollback();
        } catch (SQLException ignored) {
            // the write failed already; it is reported
        }
    }

    private void autoCommit() {
        try {
            db.setAutoCommit(true);
        } catch (SQLException ignored) {
            // the next write reports a broken connection
        }
    }

    /** Closes the database. */
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }
}

package io.corral.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
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

    private static final int SCHEMA = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Connection db;
    private final int maxSpans;
    private final Duration retention;
    private final long generation; // the spans a table takes before the next one begins: a tenth of the bound
    /** The tables rows are written to, oldest first; the newest takes the writes. */
    private final java.util.ArrayDeque<Generation> generations = new java.util.ArrayDeque<>();
    private long nextAgeCheck;      // System.nanoTime() of the next retention pass

    /** A table of rows: {@code traces_<n>}, with its spans and its rows' first and last end, counted as they are written. */
    private static final class Generation {
        final long n;
        long spans;
        long firstEnd = Long.MAX_VALUE;
        long lastEnd = Long.MIN_VALUE;

        Generation(long n) {
            this.n = n;
        }

        String table() {
            return "traces_" + n;
        }
    }

    private TraceStore(Connection db, int maxSpans, Duration retention) {
        this.db = db;
        this.maxSpans = maxSpans;
        this.retention = retention;
        this.generation = Math.max(1, maxSpans / 10);
    }

    /**
     * Opens (or creates) the store. A row holds a trace's spans as one JSON array (those of one write: a trace whose
     * spans end in two writes has two rows), with its root's id, owner, start and end in columns, so a request costs
     * one row and one index entry rather than a row and four index entries per span. Rows go to tables of a tenth of
     * the bound each ({@code traces_1}, {@code traces_2}, ...), read together through the view {@code traces}; the
     * bound and the retention drop whole tables, the oldest first, rather than deleting row by row. A store of an
     * earlier schema (a row per span) is carried over.
     */
    public static TraceStore open(Path file, int maxSpans, Duration retention) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            TraceStore store = new TraceStore(c, maxSpans, retention);
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
                if (version < 3) {
                    c.setAutoCommit(false);
                    create(c, 1);
                    if (version >= 1) {
                        carryOver(c);
                    }
                    s.execute("PRAGMA user_version = " + SCHEMA);
                    c.commit();
                    c.setAutoCommit(true);
                }
            }
            store.recount();
            return store;
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot open the trace store " + file + ": " + e.getMessage(), e);
        }
    }

    private static void create(Connection c, long n) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE traces_" + n + " (trace_id TEXT NOT NULL, root_span_id TEXT, owner TEXT, start_ns INTEGER NOT NULL, "
                    + "end_ns INTEGER NOT NULL, span_count INTEGER NOT NULL, spans TEXT NOT NULL)");
            s.execute("CREATE INDEX traces_" + n + "_trace ON traces_" + n + "(trace_id)");
        }
    }

    /** Reads the tables and their counts again (at start-up, and after a write that failed), and the view over them. */
    private void recount() throws SQLException {
        generations.clear();
        List<Long> tables = new ArrayList<>();
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'traces_[0-9]*'")) {
            while (r.next()) {
                tables.add(Long.parseLong(r.getString(1).substring("traces_".length())));
            }
        }
        tables.sort(null);
        for (long n : tables) {
            Generation g = new Generation(n);
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                    "SELECT COALESCE(SUM(span_count), 0), MIN(end_ns), MAX(end_ns) FROM " + g.table())) {
                if (r.next() && r.getLong(1) > 0) {
                    g.spans = r.getLong(1);
                    g.firstEnd = r.getLong(2);
                    g.lastEnd = r.getLong(3);
                }
            }
            generations.add(g);
        }
        if (generations.isEmpty()) {
            create(db, 1);
            generations.add(new Generation(1));
        }
        view();
    }

    /** The view {@code traces} over every table, with each row's table ({@code gen}) and rowid ({@code rid}). */
    private void view() throws SQLException {
        StringBuilder sql = new StringBuilder("CREATE TEMP VIEW traces AS ");
        for (Generation g : generations) {
            if (g != generations.getFirst()) {
                sql.append(" UNION ALL ");
            }
            sql.append("SELECT ").append(g.n).append(" AS gen, rowid AS rid, * FROM ").append(g.table());
        }
        try (Statement s = db.createStatement()) {
            s.execute("DROP VIEW IF EXISTS temp.traces");
            s.execute(sql.toString());
        }
        if (insert != null) {
            insert.close(); // it names the newest table
            insert = null;
        }
    }

    /** Moves the spans of a store of schema 1 or 2 (a row per span) into rows per trace, and drops their table. */
    private static void carryOver(Connection c) throws SQLException {
        Map<String, TraceRow> rows = new LinkedHashMap<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT * FROM spans ORDER BY start_ns")) {
            while (r.next()) {
                Map<String, Object> attrs = attributes(r.getString("attributes"));
                rows.computeIfAbsent(r.getString("trace_id"), TraceRow::new).add(r.getString("span_id"),
                        r.getInt("is_root") == 1 ? null : r.getString("parent_span_id"), r.getString("name"), r.getLong("start_ns"),
                        r.getLong("end_ns"), r.getString("status").toLowerCase(java.util.Locale.ROOT), attrs::forEach, attrs.get(OWNER));
            }
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO traces_1 VALUES (?,?,?,?,?,?,?)")) {
            for (TraceRow row : rows.values()) {
                row.bind(p);
                p.addBatch();
            }
            p.executeBatch();
        }
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE spans");
        }
    }

    private static final AttributeKey<String> OWNER_KEY = AttributeKey.stringKey(TraceStore.OWNER);

    /** Stores ended spans in one transaction, a row per trace; false (logged) when the write failed. */
    public synchronized boolean write(Collection<SpanData> ended) {
        Map<String, TraceRow> rows = new LinkedHashMap<>();
        for (SpanData s : ended) {
            boolean root = !s.getParentSpanContext().isValid() || s.getParentSpanContext().isRemote();
            rows.computeIfAbsent(s.getTraceId(), TraceRow::new).add(s.getSpanId(), root ? null : s.getParentSpanId(), s.getName(),
                    s.getStartEpochNanos(), s.getEndEpochNanos(), s.getStatus().getStatusCode() == StatusCode.ERROR ? "error" : "ok",
                    each -> s.getAttributes().forEach((k, v) -> each.accept(k.getKey(), v)), root ? s.getAttributes().get(OWNER_KEY) : null);
        }
        try {
            db.setAutoCommit(false);
            Generation g = generations.getLast();
            if (g.spans >= generation || g.spans > 0 && System.currentTimeMillis() - g.firstEnd / 1_000_000 >= retention.toMillis() / 10) {
                g = new Generation(g.n + 1); // full, or as old as a tenth of the retention: the next table begins
                create(db, g.n);
                generations.add(g);
                view();
            }
            PreparedStatement p = insert();
            for (TraceRow row : rows.values()) {
                row.bind(p);
                p.addBatch();
                g.firstEnd = Math.min(g.firstEnd, row.end());
                g.lastEnd = Math.max(g.lastEnd, row.end());
            }
            p.executeBatch();
            g.spans += ended.size();
            prune();
            db.commit();
            return true;
        } catch (SQLException e) {
            rollback();
            System.getLogger("corral.telemetry").log(System.Logger.Level.WARNING, "trace store write failed: " + e.getMessage());
            try {
                recount(); // the counts of rows that were not kept
            } catch (SQLException again) {
                // the next write reports it
            }
            return false;
        } finally {
            autoCommit();
        }
    }

    /**
     * One trace's row as it is built, its spans written as JSON as they are added: the root's id, owner, start and end
     * (the spans' first start and last end without it).
     */
    private static final class TraceRow {
        private final String traceId;
        private final StringBuilder spans = new StringBuilder(2048).append('[');
        private String root;
        private Object owner;
        private long start = Long.MAX_VALUE;
        private long end = Long.MIN_VALUE;
        private long rootStart;
        private long rootEnd;
        private int count;

        TraceRow(String traceId) {
            this.traceId = traceId;
        }

        void add(String spanId, String parent, String name, long startNanos, long endNanos, String status,
                 java.util.function.Consumer<java.util.function.BiConsumer<String, Object>> attributes, Object ownerOfRoot) {
            if (parent == null && root == null) {
                root = spanId;
                owner = ownerOfRoot;
                rootStart = startNanos;
                rootEnd = endNanos;
            }
            start = Math.min(start, startNanos);
            end = Math.max(end, endNanos);
            StringBuilder b = spans;
            if (count++ > 0) {
                b.append(',');
            }
            b.append("{\"span_id\":");
            string(b, spanId);
            if (parent != null) {
                b.append(",\"parent_span_id\":");
                string(b, parent);
            }
            b.append(",\"name\":");
            string(b, name);
            b.append(",\"start_ns\":").append(startNanos).append(",\"end_ns\":").append(endNanos).append(",\"status\":");
            string(b, status);
            b.append(",\"attributes\":{");
            int before = b.length();
            attributes.accept((key, value) -> {
                if (b.length() > before) {
                    b.append(',');
                }
                b.append(key(key));
                value(b, value);
            });
            b.append("}}");
        }

        /** The row's end: its root's, or its spans' last. */
        long end() {
            return root == null ? end : rootEnd;
        }

        /** Binds the row to the insert; once, when every span is added (it closes the array). */
        void bind(PreparedStatement p) throws SQLException {
            p.setString(1, traceId);
            p.setString(2, root);
            p.setString(3, owner == null ? null : owner.toString());
            p.setLong(4, root == null ? start : rootStart);
            p.setLong(5, end());
            p.setInt(6, count);
            p.setString(7, spans.append(']').toString());
        }
    }

    private PreparedStatement insert;

    private PreparedStatement insert() throws SQLException {
        if (insert == null) {
            insert = db.prepareStatement("INSERT INTO " + generations.getLast().table() + " VALUES (?,?,?,?,?,?,?)");
        }
        return insert;
    }

    /** Attribute names as written, {@code "name":}: a bounded set (the code's own, the callers' baggage), escaped once. */
    private static final Map<String, String> KEYS = new java.util.concurrent.ConcurrentHashMap<>();

    private static String key(String name) {
        String written = KEYS.get(name);
        if (written == null) {
            StringBuilder b = new StringBuilder(name.length() + 3);
            string(b, name);
            written = b.append(':').toString();
            if (KEYS.size() < 4096) { // callers' own names could be many: kept bounded
                KEYS.put(name, written);
            }
        }
        return written;
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
        int i = 0;
        while (i < s.length() && s.charAt(i) >= 0x20 && s.charAt(i) != '"' && s.charAt(i) != '\\') {
            i++;
        }
        b.append('"');
        if (i == s.length()) {
            b.append(s); // the usual case: nothing to escape, copied whole
        } else {
            b.append(s, 0, i);
            for (; i < s.length(); i++) {
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
        }
        b.append('"');
    }

    /**
     * Drops the oldest tables while the others hold the bound (so a tenth of it goes at a time), and, once a minute, the
     * tables past the retention and the rows past it in the oldest one left.
     */
    private void prune() throws SQLException {
        while (generations.size() > 1 && spans() - generations.getFirst().spans >= maxSpans) {
            drop();
        }
        long now = System.nanoTime();
        if (now - nextAgeCheck >= 0) {
            nextAgeCheck = now + 60_000_000_000L;
            Instant at = Instant.now().minus(retention);
            long cutoff = at.getEpochSecond() * 1_000_000_000L + at.getNano();
            while (generations.size() > 1 && generations.getFirst().lastEnd < cutoff) {
                drop();
            }
            Generation g = generations.getFirst();
            if (g.firstEnd < cutoff) {
                try (PreparedStatement gone = db.prepareStatement("SELECT COALESCE(SUM(span_count), 0) FROM " + g.table() + " WHERE end_ns < ?");
                     PreparedStatement delete = db.prepareStatement("DELETE FROM " + g.table() + " WHERE end_ns < ?");
                     PreparedStatement first = db.prepareStatement("SELECT MIN(end_ns) FROM " + g.table())) {
                    gone.setLong(1, cutoff);
                    try (ResultSet r = gone.executeQuery()) {
                        g.spans -= r.next() ? r.getLong(1) : 0;
                    }
                    delete.setLong(1, cutoff);
                    delete.executeUpdate();
                    try (ResultSet r = first.executeQuery()) {
                        long f = r.next() ? r.getLong(1) : 0;
                        g.firstEnd = r.wasNull() ? Long.MAX_VALUE : f;
                    }
                }
            }
        }
    }

    private long spans() {
        long n = 0;
        for (Generation g : generations) {
            n += g.spans;
        }
        return n;
    }

    /** Drops the oldest table. */
    private void drop() throws SQLException {
        Generation g = generations.removeFirst();
        view();
        try (Statement s = db.createStatement()) {
            s.execute("DROP TABLE " + g.table());
        }
    }

    /** The attribute a request's root span carries: whose request it was (the API key's tenant), when keys are used. */
    public static final String OWNER = "corral.owner";

    /**
     * Traces with a span matching every condition, ordered by {@code orderBy} ({@code start_time}, {@code -end_time}, ...);
     * with an {@code owner}, only the traces whose root names it.
     */
    public synchronized List<Trace> queryTraces(String owner, List<Condition> conditions, int limit, int offset, List<String> orderBy) {
        String order = order(orderBy);
        if (conditions.isEmpty() && order.equals(NEWEST_FIRST)) {
            return newest(owner, limit, offset);
        }
        StringBuilder sql = new StringBuilder("SELECT trace_id, root_span_id, start_ns, end_ns FROM traces r WHERE root_span_id IS NOT NULL");
        List<Object> args = new ArrayList<>();
        if (owner != null) {
            sql.append(" AND owner = ?");
            args.add(owner);
        }
        for (Condition c : conditions) { // the traces a condition holds in, found once (not a look-up per root, per table)
            sql.append(" AND trace_id IN (SELECT p.trace_id FROM traces p, json_each(p.spans) s WHERE ");
            condition(sql, args, c);
            sql.append(')');
        }
        sql.append(" ORDER BY ").append(order).append(" LIMIT ? OFFSET ?");
        args.add(limit);
        args.add(offset);
        List<Trace> traces = new ArrayList<>();
        query(sql.toString(), args, r -> traces.add(new Trace(r.getString(1), r.getString(2), r.getLong(3), r.getLong(4))));
        return traces;
    }

    private static final String NEWEST_FIRST = "start_ns DESC";

    /**
     * The newest traces (a listing without conditions, in the default order): read table by table, the newest first,
     * stopping at a table whose rows all ended before the oldest start kept so far (a row starts before it ends), so a
     * listing reads the newest table or two rather than sorting every root.
     */
    private List<Trace> newest(String owner, int limit, int offset) {
        offset = Math.max(0, offset); // a negative offset or limit counts as 0
        int wanted = (int) Math.min(Integer.MAX_VALUE, (long) Math.max(0, limit) + offset);
        List<Trace> found = new ArrayList<>();
        for (java.util.Iterator<Generation> it = generations.descendingIterator(); it.hasNext() && wanted > 0; ) {
            Generation g = it.next();
            if (found.size() >= wanted && g.lastEnd < found.get(wanted - 1).startNanos()) {
                break; // every older table ended earlier still
            }
            List<Object> args = new ArrayList<>();
            StringBuilder sql = new StringBuilder("SELECT trace_id, root_span_id, start_ns, end_ns FROM ").append(g.table())
                    .append(" WHERE root_span_id IS NOT NULL");
            if (owner != null) {
                sql.append(" AND owner = ?");
                args.add(owner);
            }
            sql.append(" ORDER BY start_ns DESC LIMIT ?");
            args.add(wanted);
            query(sql.toString(), args, r -> found.add(new Trace(r.getString(1), r.getString(2), r.getLong(3), r.getLong(4))));
            found.sort(java.util.Comparator.comparingLong(Trace::startNanos).reversed());
        }
        return found.subList(Math.min(offset, found.size()), Math.min(wanted, found.size()));
    }

    /** Whether the trace's root names {@code owner} (null: anyone's). */
    public synchronized boolean ownedBy(String traceId, String owner) {
        if (owner == null) {
            return true;
        }
        List<Boolean> found = new ArrayList<>();
        query("SELECT 1 FROM traces WHERE trace_id = ? AND root_span_id IS NOT NULL AND owner = ?", List.of(traceId, owner),
                r -> found.add(true));
        return !found.isEmpty();
    }

    public synchronized Trace trace(String traceId) {
        List<Trace> t = new ArrayList<>();
        query("SELECT trace_id, root_span_id, start_ns, end_ns FROM traces WHERE trace_id = ? AND root_span_id IS NOT NULL "
                        + "ORDER BY start_ns LIMIT 1",
                List.of(traceId), r -> t.add(new Trace(r.getString(1), r.getString(2), r.getLong(3), r.getLong(4))));
        return t.isEmpty() ? null : t.getFirst();
    }

    public synchronized StoredSpan span(String traceId, String spanId) {
        return spansOf(traceId).stream().filter(s -> s.spanId().equals(spanId)).findFirst().orElse(null);
    }

    /** The span and its descendants, down to {@code maxDepth} levels below it (negative: all). */
    public synchronized List<StoredSpan> tree(String spanId, int maxDepth) {
        String traceId = traceOf(spanId);
        return traceId == null ? List.of() : tree(spansOf(traceId), spanId, maxDepth);
    }

    private static List<StoredSpan> tree(List<StoredSpan> trace, String spanId, int maxDepth) {
        Map<String, List<StoredSpan>> children = new LinkedHashMap<>();
        StoredSpan top = null;
        for (StoredSpan s : trace) {
            if (s.spanId().equals(spanId)) {
                top = s;
            }
            if (s.parentSpanId() != null) {
                children.computeIfAbsent(s.parentSpanId(), k -> new ArrayList<>()).add(s);
            }
        }
        if (top == null) {
            return List.of();
        }
        List<StoredSpan> out = new ArrayList<>(List.of(top));
        List<StoredSpan> level = List.of(top);
        java.util.Set<String> seen = new java.util.HashSet<>(List.of(spanId));
        for (int depth = 0; !level.isEmpty() && (maxDepth < 0 || depth < maxDepth); depth++) {
            List<StoredSpan> next = new ArrayList<>();
            for (StoredSpan s : level) {
                for (StoredSpan c : children.getOrDefault(s.spanId(), List.of())) {
                    if (seen.add(c.spanId())) { // a span id twice in a trace must not loop
                        next.add(c);
                    }
                }
            }
            out.addAll(next);
            level = next;
        }
        out.sort(java.util.Comparator.comparingLong(StoredSpan::startNanos));
        return out;
    }

    /**
     * The trace holding the span. Span and trace ids begin with the milliseconds they were made at ({@link TimeOrderedIds}),
     * and a trace's id is made when its first span starts, so the traces begun in the 10 ms up to the span are read first
     * (a root, a short request's spans), then those begun in the second around it, by the trace index; every row only
     * when none holds it (a longer trace, a caller's trace id). A row is parsed only when its text holds the span's id.
     */
    private String traceOf(String spanId) {
        long millis;
        try {
            millis = Long.parseUnsignedLong(spanId, 16) >>> 20;
        } catch (NumberFormatException notHex) {
            return null; // not a span id: no span has it
        }
        String holds = "instr(spans, ?) > 0 AND EXISTS (SELECT 1 FROM json_each(spans) s WHERE json_extract(s.value, '$.span_id') = ?) LIMIT 1";
        String text = "\"span_id\":\"" + spanId + "\"";
        List<String> found = new ArrayList<>();
        for (long[] window : new long[][]{{10, 1}, {1_000, 1_000}}) {
            query("SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? AND " + holds,
                    List.of(String.format("%012x", Math.max(0, millis - window[0])), String.format("%012x", millis + window[1]), text, spanId),
                    r -> found.add(r.getString(1)));
            if (!found.isEmpty()) {
                return found.getFirst();
            }
        }
        query("SELECT trace_id FROM traces WHERE " + holds, List.of(text, spanId), r -> found.add(r.getString(1)));
        return found.isEmpty() ? null : found.getFirst();
    }

    /** Every span of a trace, from each of its rows. */
    private List<StoredSpan> spansOf(String traceId) {
        List<StoredSpan> spans = new ArrayList<>();
        query("SELECT spans FROM traces WHERE trace_id = ? ORDER BY gen, rid", List.of(traceId), r -> {
            try {
                for (JsonNode s : JSON.readTree(r.getString(1))) {
                    spans.add(span(traceId, s));
                }
            } catch (IOException e) {
                throw new SQLException("a trace's spans are not JSON: " + e.getMessage(), e);
            }
        });
        return spans;
    }

    /**
     * Spans whose own attributes match every condition, each with its descendants to {@code maxDepth} (negative: none);
     * with an {@code owner}, only spans of the traces whose root names it.
     */
    public synchronized List<StoredSpan> querySpans(String owner, List<Condition> conditions, int maxDepth, int limit) {
        StringBuilder sql = new StringBuilder("SELECT p.trace_id, s.value FROM traces p, json_each(p.spans) s WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (owner != null) {
            sql.append(" AND p.trace_id IN (SELECT trace_id FROM traces WHERE root_span_id IS NOT NULL AND owner = ?)");
            args.add(owner);
        }
        for (Condition c : conditions) {
            sql.append(" AND ");
            condition(sql, args, c);
        }
        sql.append(" ORDER BY json_extract(s.value, '$.start_ns') LIMIT ?");
        args.add(limit);
        List<StoredSpan> found = new ArrayList<>();
        query(sql.toString(), args, r -> {
            try {
                found.add(span(r.getString(1), JSON.readTree(r.getString(2))));
            } catch (IOException e) {
                throw new SQLException("a span is not JSON: " + e.getMessage(), e);
            }
        });
        if (maxDepth <= 0) {
            return found;
        }
        Map<String, StoredSpan> all = new LinkedHashMap<>();
        Map<String, List<StoredSpan>> traces = new java.util.HashMap<>();
        for (StoredSpan s : found) {
            for (StoredSpan t : tree(traces.computeIfAbsent(s.traceId(), this::spansOf), s.spanId(), maxDepth)) {
                all.putIfAbsent(t.spanId(), t);
            }
        }
        return new ArrayList<>(all.values());
    }

    /**
     * A condition on a span ({@code s}, of {@code json_each} over row {@code p}'s spans). A string equality first asks
     * whether the row's text holds it as written, so only rows that may match are parsed.
     */
    private static void condition(StringBuilder sql, List<Object> args, Condition c) {
        if (c.op().equals("eq") && c.value() instanceof String v) {
            StringBuilder text = new StringBuilder(key(c.key()));
            string(text, v);
            sql.append("instr(p.spans, ?) > 0 AND ");
            args.add(text.toString());
        }
        String op = switch (c.op()) {
            case "eq" -> "=";
            case "ne" -> "!=";
            case "gt" -> ">";
            default -> "<";
        };
        sql.append("json_extract(s.value, ?) ").append(op).append(" ?");
        args.add("$.attributes.\"" + c.key().replace("\"", "") + "\"");
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
        return parts.isEmpty() ? NEWEST_FIRST : String.join(", ", parts);
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

    private static StoredSpan span(String traceId, JsonNode s) {
        JsonNode parent = s.get("parent_span_id");
        return new StoredSpan(s.path("span_id").asText(), traceId, parent == null || parent.isNull() ? null : parent.asText(),
                s.path("name").asText(), s.path("start_ns").asLong(), s.path("end_ns").asLong(), s.path("status").asText("ok"),
                JSON.convertValue(s.path("attributes"), ATTRIBUTES));
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>> ATTRIBUTES =
            new com.fasterxml.jackson.core.type.TypeReference<>() { };

    @SuppressWarnings("unchecked")
    private static Map<String, Object> attributes(String json) {
        try {
            return JSON.readValue(json, LinkedHashMap.class);
        } catch (IOException e) {
            return Map.of();
        }
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

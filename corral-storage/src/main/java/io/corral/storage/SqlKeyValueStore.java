package io.corral.storage;

import io.corral.api.EngineException;
import io.corral.spi.KeyValueStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link KeyValueStore} in SQL: one SQLite file (WAL; {@code storage: inline::sqlite}, the embedded default)
 * or a PostgreSQL database ({@code storage: remote::postgres}), with the same statements and the same
 * versioned {@link Schema}. One connection, calls serialized. Expired entries are invisible at once and removed
 * as they are met.
 */
public final class SqlKeyValueStore implements KeyValueStore {

    private final Connection db;
    private final Clock clock;

    private final boolean postgres;

    private SqlKeyValueStore(Connection db, Clock clock, boolean postgres) {
        this.db = db;
        this.clock = clock;
        this.postgres = postgres;
    }

    /** A PostgreSQL database may be shared by several nodes; an SQLite file is this process's. */
    @Override
    public boolean shared() {
        return postgres;
    }

    /** Opens (creating) the store at {@code file}. */
    public static SqlKeyValueStore sqlite(Path file, Clock clock) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
            }
            Schema.migrate(c, false);
            return new SqlKeyValueStore(c, clock, false);
        } catch (SQLException | java.io.IOException e) {
            throw new EngineException("cannot open the key-value store " + file + ": " + e.getMessage(), e);
        }
    }

    /** Connects to a PostgreSQL database ({@code jdbc:postgresql://host:port/db}), bringing its schema up to date. */
    public static SqlKeyValueStore postgres(String url, String user, String password, Clock clock) {
        try {
            java.util.Properties props = new java.util.Properties();
            if (user != null) {
                props.setProperty("user", user);
            }
            if (password != null) {
                props.setProperty("password", password);
            }
            props.setProperty("connectTimeout", "10");
            Connection c = new org.postgresql.Driver().connect(url, props);
            if (c == null) {
                throw new SQLException("not a PostgreSQL URL: " + url);
            }
            try {
                Schema.migrate(c, true);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            return new SqlKeyValueStore(c, clock, true);
        } catch (SQLException e) {
            throw new EngineException("cannot open the key-value store at " + url + ": " + e.getMessage(), e);
        }
    }

    private long now() {
        return clock.millis();
    }

    @Override
    public synchronized Optional<String> get(String key) {
        try (PreparedStatement p = db.prepareStatement("SELECT value, expires_at FROM kv WHERE key = ?")) {
            p.setString(1, key);
            try (ResultSet r = p.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                long expires = r.getLong(2);
                if (!r.wasNull() && expires <= now()) {
                    delete(key);
                    return Optional.empty();
                }
                return Optional.of(r.getString(1));
            }
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    @Override
    public synchronized void set(String key, String value, Instant expiresAt) {
        try (PreparedStatement p = db.prepareStatement(
                "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at")) {
            p.setString(1, key);
            p.setString(2, value);
            if (expiresAt == null) {
                p.setNull(3, java.sql.Types.INTEGER);
            } else {
                p.setLong(3, expiresAt.toEpochMilli());
            }
            p.executeUpdate();
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    @Override
    public synchronized void setAll(Map<String, String> entries) {
        try {
            db.setAutoCommit(false);
            try (PreparedStatement p = db.prepareStatement(
                    "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, NULL) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = NULL")) {
                for (Map.Entry<String, String> e : entries.entrySet()) {
                    p.setString(1, e.getKey());
                    p.setString(2, e.getValue());
                    p.addBatch();
                }
                p.executeBatch();
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    @Override
    public synchronized boolean delete(String key) {
        try (PreparedStatement p = db.prepareStatement("DELETE FROM kv WHERE key = ?")) {
            p.setString(1, key);
            return p.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    /**
     * One statement, so racing nodes on one database are ordered by it: an insert that may replace only an expired
     * entry, an update or a delete that matches only the expected value still live.
     */
    @Override
    public synchronized boolean compareAndSet(String key, String expected, String value, Instant expiresAt) {
        long now = now();
        String sql = expected == null && value == null ? null
                : expected == null ? "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                        + " expires_at = excluded.expires_at WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?"
                : value == null ? "DELETE FROM kv WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)"
                : "UPDATE kv SET value = ?, expires_at = ? WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)";
        if (sql == null) {
            return get(key).isEmpty(); // removing nothing where there is nothing
        }
        try (PreparedStatement p = db.prepareStatement(sql)) {
            if (expected == null) {
                p.setString(1, key);
                p.setString(2, value);
                expiry(p, 3, expiresAt);
                p.setLong(4, now);
            } else if (value == null) {
                p.setString(1, key);
                p.setString(2, expected);
                p.setLong(3, now);
            } else {
                p.setString(1, value);
                expiry(p, 2, expiresAt);
                p.setString(3, key);
                p.setString(4, expected);
                p.setLong(5, now);
            }
            return p.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    private static void expiry(PreparedStatement p, int at, Instant expiresAt) throws SQLException {
        if (expiresAt == null) {
            p.setNull(at, java.sql.Types.BIGINT);
        } else {
            p.setLong(at, expiresAt.toEpochMilli());
        }
    }

    @Override
    public synchronized List<Map.Entry<String, String>> range(String start, String end) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        try (PreparedStatement p = db.prepareStatement(
                "SELECT key, value FROM kv WHERE key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key")) {
            p.setString(1, start);
            p.setString(2, end);
            p.setLong(3, now());
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(new AbstractMap.SimpleImmutableEntry<>(r.getString(1), r.getString(2)));
                }
            }
        } catch (SQLException e) {
            throw failed(e);
        }
        return out;
    }

    private static EngineException failed(SQLException e) {
        return new EngineException("key-value store: " + e.getMessage(), e);
    }

    /** SQLite: {@code VACUUM INTO}, a consistent copy while the store is in use. PostgreSQL: {@code pg_dump}. */
    @Override
    public synchronized void backup(Path file) {
        if (postgres) {
            KeyValueStore.super.backup(file);
        }
        try (PreparedStatement p = db.prepareStatement("VACUUM INTO ?")) {
            p.setString(1, file.toAbsolutePath().toString());
            p.execute();
        } catch (SQLException e) {
            throw new EngineException("cannot back up the key-value store to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }
}

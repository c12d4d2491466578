package io.corral.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Corral's state schema, one for SQLite and PostgreSQL, as numbered migrations: each store applies those
 * after the version its database records (table {@code schema_version}), in one transaction, so a database
 * of an older Corral is brought forward and a newer one is refused rather than misread.
 */
final class Schema {

    /** One version's statements, in the two dialects where they differ. */
    record Migration(int version, List<String> sqlite, List<String> postgres) {
    }

    static final List<Migration> MIGRATIONS = List.of(
            // 1: keys and values, ordered as bytes (PostgreSQL's "C" collation) so a prefix is a range
            new Migration(1,
                    List.of("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)"),
                    List.of("CREATE TABLE IF NOT EXISTS kv (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT)")));

    static final int CURRENT = MIGRATIONS.getLast().version();

    /** The advisory lock key PostgreSQL migrations hold ("corral" in ASCII). */
    private static final long LOCK = 0x636f7272616cL;

    private Schema() {
    }

    /** Brings the database to {@link #CURRENT}; returns the version it was at (0: new). */
    static int migrate(Connection db, boolean postgres) throws SQLException {
        boolean auto = db.getAutoCommit();
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            if (postgres) {
                // two servers starting at once on a new database migrate one after the other: the lock comes before
                // the first CREATE (concurrent CREATE TABLE IF NOT EXISTS collide in PostgreSQL's catalog), and is
                // held until this transaction ends
                s.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
            }
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int version = 0;
            boolean recorded;
            try (ResultSet r = s.executeQuery("SELECT version FROM schema_version")) {
                recorded = r.next();
                if (recorded) {
                    version = r.getInt(1);
                }
            }
            if (version > CURRENT) {
                throw new SQLException("the database is at schema version " + version + ", newer than this Corral's " + CURRENT
                        + "; use a newer Corral");
            }
            for (Migration m : MIGRATIONS) {
                if (m.version() > version) {
                    for (String sql : postgres ? m.postgres() : m.sqlite()) {
                        s.execute(sql);
                    }
                }
            }
            try (PreparedStatement p = db.prepareStatement(recorded ? "UPDATE schema_version SET version = ?"
                    : "INSERT INTO schema_version (version) VALUES (?)")) {
                p.setInt(1, CURRENT);
                p.executeUpdate();
            }
            db.commit();
            return version;
        } catch (SQLException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(auto);
        }
    }
}

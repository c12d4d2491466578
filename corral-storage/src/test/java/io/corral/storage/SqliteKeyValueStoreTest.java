package io.corral.storage;

import io.corral.spi.KeyValueStore;
import io.corral.testing.KeyValueStoreContract;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The SQLite store keeps the key-value contract, across reopening too. */
class SqliteKeyValueStoreTest extends KeyValueStoreContract {

    @TempDir
    Path dir;

    @Override
    protected KeyValueStore open(TestClock clock) {
        return SqlKeyValueStore.sqlite(dir.resolve("kv.db"), clock);
    }

    @Override
    protected KeyValueStore reopen(TestClock clock) {
        return SqlKeyValueStore.sqlite(dir.resolve("kv.db"), clock);
    }

    @org.junit.jupiter.api.Test
    void aFileOfAnOlderCorral_isMigrated_keepingItsEntries() throws Exception {
        store.close();
        java.nio.file.Path old = dir.resolve("old.db");
        // the table as Corral made it before the schema was versioned
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old); var s = c.createStatement()) {
            s.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
            s.execute("INSERT INTO kv VALUES ('session:1', 'kept', NULL)");
        }
        store = SqlKeyValueStore.sqlite(old, clock);
        org.assertj.core.api.Assertions.assertThat(store.get("session:1")).contains("kept");
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old); var s = c.createStatement();
             var r = s.executeQuery("SELECT version FROM schema_version")) {
            org.assertj.core.api.Assertions.assertThat(r.next()).isTrue();
            org.assertj.core.api.Assertions.assertThat(r.getInt(1)).isEqualTo(Schema.CURRENT);
        }
    }
}

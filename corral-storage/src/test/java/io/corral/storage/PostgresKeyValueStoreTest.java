package io.corral.storage;

import io.corral.spi.KeyValueStore;
import io.corral.testing.KeyValueStoreContract;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.DriverManager;
import java.sql.ResultSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The PostgreSQL store keeps the key-value contract, against a real PostgreSQL 17 the test starts. */
class PostgresKeyValueStoreTest extends KeyValueStoreContract {

    static TestPostgres pg;
    static int databases;
    String url;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = TestPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    @Override
    protected KeyValueStore open(TestClock clock) {
        String db = "kv" + (++databases);
        try (var c = DriverManager.getConnection(pg.url(), "corral", ""); var s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        url = "jdbc:postgresql://127.0.0.1:" + pg.port + "/" + db;
        return SqlKeyValueStore.postgres(url, "corral", null, clock);
    }

    @Override
    protected KeyValueStore reopen(TestClock clock) {
        return SqlKeyValueStore.postgres(url, "corral", null, clock);
    }

    @Test
    void serversStartingTogetherOnANewDatabase_allOpenIt() throws Exception {
        String db = "race" + (++databases);
        try (var c = DriverManager.getConnection(pg.url(), "corral", ""); var s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        String fresh = "jdbc:postgresql://127.0.0.1:" + pg.port + "/" + db;
        int nodes = 6;
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(nodes);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(nodes)) {
            java.util.List<java.util.concurrent.Future<KeyValueStore>> opened = new java.util.ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                opened.add(pool.submit(() -> {
                    ready.countDown();
                    ready.await(); // all at once, as nodes started together
                    return SqlKeyValueStore.postgres(fresh, "corral", null, clock);
                }));
            }
            for (var f : opened) {
                try (KeyValueStore kv = f.get()) { // each one opened, none refused by the others' migration
                    kv.set("k", "v");
                }
            }
        }
        try (var c = DriverManager.getConnection(fresh, "corral", ""); var s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM schema_version")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getInt(1)).as("the schema recorded once").isEqualTo(1);
        }
    }

    @Test
    void theSchemaIsVersioned_andOpeningAgainMigratesNothing() throws Exception {
        KeyValueStore again = reopen(clock);
        again.close();
        try (var c = DriverManager.getConnection(url, "corral", ""); var s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT version FROM schema_version")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getInt(1)).isEqualTo(Schema.CURRENT);
            assertThat(r.next()).as("one row").isFalse();
        }
    }

    @Test
    void aDatabaseOfANewerCorral_isRefused() throws Exception {
        try (var c = DriverManager.getConnection(url, "corral", ""); var s = c.createStatement()) {
            s.execute("UPDATE schema_version SET version = " + (Schema.CURRENT + 1));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> reopen(clock))
                .hasMessageContaining("newer than this Corral's");
    }

    @Test
    void uploadedFilesRecords_liveInPostgres(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        try (var files = new LocalFilesProvider(dir, store, clock)) {
            var info = files.upload("key-1", "notes.txt", "assistants", null, new java.io.ByteArrayInputStream("hello".getBytes()));
            assertThat(store.get("files/" + info.id())).isPresent();
            assertThat(files.list("key-1", null)).containsExactly(info);
            assertThat(files.get("key-2", info.id())).as("another tenant's").isEmpty();
            assertThat(files.delete("key-1", info.id())).isTrue();
            assertThat(store.get("files/" + info.id())).isEmpty();
        }
    }
}

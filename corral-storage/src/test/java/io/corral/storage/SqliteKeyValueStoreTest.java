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
        return SqliteKeyValueStore.open(dir.resolve("kv.db"), clock);
    }

    @Override
    protected KeyValueStore reopen(TestClock clock) {
        return SqliteKeyValueStore.open(dir.resolve("kv.db"), clock);
    }
}

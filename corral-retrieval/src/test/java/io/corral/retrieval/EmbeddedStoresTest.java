package io.corral.retrieval;

import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** What tests of the service run on: the real embedded stores (files on disk, SQLite, Lucene) in a temporary folder and a scripted embedder. */
abstract class EmbeddedStoresTest {

    @TempDir
    Path dir;
    final TestClock clock = new TestClock(Instant.parse("2026-11-27T12:00:00Z"));
    final HashingEmbedder embedder = new HashingEmbedder();
    FilesProvider files;
    KeyValueStore kv;
    VectorStoreService service;

    @BeforeEach
    void openStores() {
        files = new LocalFilesProvider(dir.resolve("files"), clock);
        kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), clock);
        service = start();
    }

    VectorStoreService start() {
        return new VectorStoreService(files, kv, Map.of("lucene", new LuceneVectorIo(dir.resolve("vectors"))), embedder, clock,
                new VectorStoreService.Config(null, 2, 1 << 20));
    }

    /** Closes and opens the service again over the same storage, as a restart does. */
    void restart() {
        service.close();
        kv.close();
        kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), clock);
        service = start();
    }

    @AfterEach
    void closeStores() {
        embedder.release();
        service.close();
        kv.close();
        files.close();
    }
}

package io.corral.retrieval;

import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.Leases;
import io.corral.spi.MemoryKeyValueStore;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider.Mode;
import io.corral.spi.VectorStores.NewStore;
import io.corral.spi.VectorStores.Search;
import io.corral.storage.LocalFilesProvider;
import io.corral.testing.KillableKeyValueStore;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes on one shared state store: a file in progress on one is left to it while it lives, and taken over by
 * the other once the first dies (its lease runs out); one that only stalled past its lease does not write its late end.
 */
class TwoNodesIngestionTest {

    @TempDir
    Path dir;

    final TestClock clock = new TestClock(Instant.parse("2026-11-28T12:00:00Z"));
    final MemoryKeyValueStore database = MemoryKeyValueStore.shared(clock);
    /** Node A's way to the shared store: cut as at kill -9 (or a stall) by {@code killed}. */
    final KillableKeyValueStore nodeA = new KillableKeyValueStore(database);
    final HashingEmbedder stuck = new HashingEmbedder();
    final HashingEmbedder embedder = new HashingEmbedder();
    LocalFilesProvider files;
    VectorStoreService a;
    VectorStoreService b;
    String file;
    String store;

    /** Node A is embedding a file of a new store (held there); node B has started on the same store meanwhile. */
    @BeforeEach
    void aIsEmbeddingAFile_andBHasStarted() throws Exception {
        files = new LocalFilesProvider(dir.resolve("files"), clock);
        a = new VectorStoreService(files, nodeA, Map.of("lucene", new LuceneVectorIo(dir.resolve("a"))), stuck, clock,
                new VectorStoreService.Config(null, 1, 1 << 20));
        stuck.hold();
        file = files.upload(null, "cats.txt", "assistants", null,
                new ByteArrayInputStream("Cats purr when they are content.".getBytes(StandardCharsets.UTF_8))).id();
        store = a.create(null, new NewStore("pets", List.of(file), null, Map.of(), null, null, null, null)).id();
        stuck.entered.await();
        b = new VectorStoreService(files, database, Map.of("lucene", new LuceneVectorIo(dir.resolve("b"))), embedder, clock,
                new VectorStoreService.Config(null, 1, 1 << 20));
    }

    @AfterEach
    void close() {
        stuck.release();
        b.close();
        a.close();
        files.close();
    }

    @Test
    void aFileInProgressOnANodeThatDies_isIngestedByTheOther() throws Exception {
        assertThat(b.takeOver()).isZero(); // A holds the file's lease: B, started meanwhile, leaves it
        assertThat(b.get(null, store).fileCounts().inProgress()).isEqualTo(1);
        assertThat(database.prefix("vs/ingesting/")).singleElement() // what takeOver reads, rather than every file
                .satisfies(e -> assertThat(e.getKey()).isEqualTo("vs/ingesting/" + store + "/" + file));

        nodeA.killed = true; // kill -9: A renews nothing from here
        clock.advance(Leases.TTL.minusSeconds(1));
        assertThat(b.takeOver()).isZero();
        clock.advance(Duration.ofSeconds(2)); // A's lease has run out
        assertThat(b.takeOver()).isEqualTo(1);
        b.awaitIdle(Duration.ofSeconds(30));

        assertThat(b.get(null, store).fileCounts().completed()).isEqualTo(1);
        assertThat(b.search(null, store, new Search(List.of("purr"), null, 10, Mode.KEYWORD, Ranker.DEFAULT, 0)))
                .singleElement().satisfies(r -> assertThat(r.fileId()).isEqualTo(file));
        assertThat(embedder.texts.get()).isEqualTo(1);
        assertThat(database.prefix("lease/")).isEmpty(); // done: B gave its lease up
        assertThat(database.prefix("vs/ingesting/")).isEmpty();
        assertThat(b.takeOver()).isZero();

        // a node that died between recording a file completed and removing its entry: the entry is dropped
        database.set("vs/ingesting/" + store + "/" + file, "");
        database.set("vs/ingesting/" + store + "/file-gone", "");
        assertThat(b.takeOver()).isZero();
        assertThat(database.prefix("vs/ingesting/")).isEmpty();
        assertThat(embedder.texts.get()).isEqualTo(1);
    }

    /**
     * A node stalled past its lease (not dead: it wakes up) finishes work another node took over and ended, and the file
     * was deleted meanwhile: its late end is not written over what came after (the file stays deleted).
     */
    @Test
    void aNodeStalledPastItsLease_doesNotWriteItsLateEndOverWhatCameAfter() throws Exception {
        nodeA.killed = true; // A stalls: nothing it writes (its lease's renewals) arrives
        clock.advance(Leases.TTL.plusSeconds(1));
        assertThat(b.takeOver()).isEqualTo(1);
        b.awaitIdle(Duration.ofSeconds(30));
        assertThat(b.get(null, store).fileCounts().completed()).isEqualTo(1);
        b.removeFile(null, store, file);
        assertThat(database.get("vs/file/" + store + "/" + file)).isEmpty();

        nodeA.killed = false; // A wakes up and finishes what it was doing
        stuck.release();
        a.awaitIdle(Duration.ofSeconds(30));
        assertThat(database.get("vs/file/" + store + "/" + file)).as("the deleted file is not written back").isEmpty();
        assertThat(a.get(null, store).fileCounts().total()).isZero(); // A's view caught up
        assertThat(b.get(null, store).fileCounts().total()).isZero();
    }
}

package io.corral.retrieval;

import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.Filter;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider.Mode;
import io.corral.spi.VectorStores.ChunkQuery;
import io.corral.spi.VectorStores.Chunking;
import io.corral.spi.VectorStores.EmbeddedChunk;
import io.corral.spi.VectorStores.ScoredChunk;
import io.corral.spi.VectorStores.NewStore;
import io.corral.spi.VectorStores.Result;
import io.corral.spi.VectorStores.Search;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The vector stores service over the real embedded stores (SQLite, Lucene, files on disk) and a scripted embedder. */
class VectorStoreServiceTest extends EmbeddedStoresTest {

    static final String ME = "key-aaaaaaaaaaaaaaaa", OTHER = "key-bbbbbbbbbbbbbbbb";

    private String upload(String tenant, String name, String text) {
        return upload(tenant, name, text.getBytes(StandardCharsets.UTF_8));
    }

    private String upload(String tenant, String name, byte[] bytes) {
        return files.upload(tenant, name, "assistants", null, new ByteArrayInputStream(bytes)).id();
    }

    private void idle() throws Exception {
        service.awaitIdle(Duration.ofSeconds(30));
    }

    private static Search search(String q, Mode mode) {
        return new Search(List.of(q), null, 10, mode, Ranker.DEFAULT, 0);
    }

    private String storeWith(String... docs) throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < docs.length; i++) {
            ids.add(upload(ME, "doc" + i + ".txt", docs[i]));
        }
        String id = service.create(ME, new NewStore("docs", ids, null, Map.of("team", "blue"), null, null, null, null)).id();
        idle();
        return id;
    }

    @Test
    void filesAddedAtCreation_areIngested_counted_andSearchable() throws Exception {
        String a = upload(ME, "cats.txt", "Cats purr when they are content.");
        String b = upload(ME, "dogs.md", "# Dogs\n\nDogs **bark** at [the postman](http://example.com).");
        var store = service.create(ME, new NewStore("pets", List.of(a, b), null, Map.of("team", "blue"), null, null, null, null));
        assertThat(store.id()).startsWith("vs_");
        assertThat(store.embeddingModel()).isEqualTo(HashingEmbedder.MODEL);
        assertThat(store.dimension()).isEqualTo(64);
        idle();
        var now = service.get(ME, store.id());
        assertThat(now.fileCounts()).isEqualTo(new io.corral.spi.VectorStores.FileCounts(0, 2, 0, 0));
        assertThat(now.status()).isEqualTo("completed");
        assertThat(now.usageBytes()).isEqualTo("Cats purr when they are content.".length() + "Dogs Dogs bark at the postman.".length());
        List<Result> hits = service.search(ME, store.id(), search("postman", Mode.KEYWORD));
        assertThat(hits).hasSize(1);
        assertThat(hits.getFirst().fileId()).isEqualTo(b);
        assertThat(hits.getFirst().filename()).isEqualTo("dogs.md");
        assertThat(hits.getFirst().text()).isEqualTo("Dogs Dogs bark at the postman.");
        assertThat(service.search(ME, store.id(), search("purr cats", Mode.VECTOR)).getFirst().fileId()).isEqualTo(a);
        assertThat(service.search(ME, store.id(), search("purr cats", Mode.HYBRID)).getFirst().fileId()).isEqualTo(a);
        assertThat(service.content(ME, store.id(), b).chunks()).containsExactly("Dogs Dogs bark at the postman.");
    }

    private static float[] vector(int slot) {
        float[] v = new float[64];
        v[slot] = 1;
        return v;
    }

    @Test
    void chunksPutInWhole_areFoundByQuery_withTheirEmbeddingsAndMetadata_besideFilesChunks_andSurviveARestart() throws Exception {
        String id = storeWith("Cats purr when they are content.");
        Map<String, Object> meta = Map.of("document_id", "doc-7", "tags", List.of("wine", "france"), "year", 1855);
        float[] given = vector(5);
        service.insertChunks(ME, id, List.of(
                new EmbeddedChunk("c1", "Bordeaux makes red wine.", meta, Map.of("source", "atlas.pdf"), given, "my-model"),
                new EmbeddedChunk("c2", "Lyon weaves silk.", Map.of(), Map.of(), null, null))); // embedded by the store's model
        restart();
        List<ScoredChunk> wine = service.queryChunks(ME, id, new ChunkQuery("wine Bordeaux", 3, Mode.KEYWORD, 0, Ranker.DEFAULT));
        assertThat(wine).hasSize(1);
        EmbeddedChunk c = wine.getFirst().chunk();
        assertThat(c.id()).isEqualTo("c1");
        assertThat(c.content()).isEqualTo("Bordeaux makes red wine.");
        assertThat(c.metadata()).isEqualTo(meta);
        assertThat(c.chunkMetadata()).isEqualTo(Map.of("source", "atlas.pdf"));
        assertThat(c.embedding()).containsExactly(given);
        assertThat(c.embeddingModel()).isEqualTo("my-model");
        assertThat(wine.getFirst().score()).isPositive();
        // the one given no embedding was embedded by the store's model: found by its words' vector
        EmbeddedChunk silk = service.queryChunks(ME, id, new ChunkQuery("silk Lyon", 1, Mode.VECTOR, 0, Ranker.DEFAULT)).getFirst().chunk();
        assertThat(silk.id()).isEqualTo("c2");
        assertThat(silk.embedding()).containsExactly(embedder.embed(HashingEmbedder.MODEL, List.of("Lyon weaves silk.")).getFirst());
        assertThat(silk.embeddingModel()).isEqualTo(HashingEmbedder.MODEL);
        // a file's chunk answers too, named as Llama Stack names one
        EmbeddedChunk cats = service.queryChunks(ME, id, new ChunkQuery("cats purr", 1, Mode.HYBRID, 0, Ranker.DEFAULT)).getFirst().chunk();
        assertThat(cats.metadata()).containsEntry("filename", "doc0.txt").containsKey("file_id");
        assertThat(cats.chunkMetadata()).containsEntry("document_id", cats.metadata().get("file_id"));
        assertThat(cats.embedding()).hasSize(64);
        // and OpenAI's search finds the chunks put in whole, their attributes the metadata's plain values
        Result r = service.search(ME, id, search("Bordeaux", Mode.KEYWORD)).getFirst();
        assertThat(r.fileId()).isEmpty();
        assertThat(r.text()).isEqualTo("Bordeaux makes red wine.");
        assertThat(r.attributes()).isEqualTo(Map.of("document_id", "doc-7", "year", 1855));
        assertThat(service.search(ME, id, new Search(List.of("wine"), Filter.eq("year", 1855), 10, Mode.KEYWORD, Ranker.DEFAULT, 0)))
                .as("filters see the metadata's plain values").hasSize(1);
        assertThat(service.get(ME, id).fileCounts().total()).as("chunks are not files").isEqualTo(1);
    }

    @Test
    void aDocumentInsertedAgain_replacesAllOfItsChunks_evenWhenShorter() throws Exception {
        String id = storeWith("Cats purr.");
        String longText = ("Wine grows in Bordeaux. ".repeat(90) + "\n\n").repeat(3); // several chunks of 100 tokens
        Chunking small = Chunking.fixed(100, 20);
        service.insertDocument(ME, id, "wine", longText, Map.of("region", "gironde"), small);
        int before = service.queryChunks(ME, id, new ChunkQuery("Bordeaux wine", 50, Mode.KEYWORD, 0, Ranker.DEFAULT)).size();
        assertThat(before).isGreaterThan(2);
        service.insertDocument(ME, id, "wine", "Now only silk from Lyon.", Map.of(), small);
        assertThat(service.queryChunks(ME, id, new ChunkQuery("Bordeaux wine", 50, Mode.KEYWORD, 0, Ranker.DEFAULT)))
                .as("none of the longer version left").isEmpty();
        List<ScoredChunk> silk = service.queryChunks(ME, id, new ChunkQuery("silk", 5, Mode.KEYWORD, 0, Ranker.DEFAULT));
        assertThat(silk).hasSize(1);
        assertThat(silk.getFirst().chunk().metadata()).containsEntry("document_id", "wine");
        assertThat(silk.getFirst().chunk().id()).isEqualTo("wine#0");
        assertThatThrownBy(() -> service.insertDocument(ME, id, "empty", "  ", Map.of(), small)).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aChunkPutAgain_underItsId_replacesIt_andAWrongDimensionStoresNothing() throws Exception {
        String id = storeWith("Cats purr.");
        service.insertChunks(ME, id, List.of(new EmbeddedChunk("c1", "Old text about wine.", null, null, vector(1), null)));
        service.insertChunks(ME, id, List.of(new EmbeddedChunk("c1", "New text about silk.", null, null, vector(2), null)));
        assertThat(service.queryChunks(ME, id, new ChunkQuery("wine", 5, Mode.KEYWORD, 0, Ranker.DEFAULT))).isEmpty();
        assertThat(service.queryChunks(ME, id, new ChunkQuery("silk", 5, Mode.KEYWORD, 0, Ranker.DEFAULT)))
                .extracting(h -> h.chunk().id()).containsExactly("c1");
        assertThatThrownBy(() -> service.insertChunks(ME, id, List.of(
                new EmbeddedChunk("ok", "Fine text about bread.", null, null, vector(3), null),
                new EmbeddedChunk("bad", "Wrong size.", null, null, new float[3], null))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("3 dimensions").hasMessageContaining("64");
        assertThat(service.queryChunks(ME, id, new ChunkQuery("bread", 5, Mode.KEYWORD, 0, Ranker.DEFAULT))).as("nothing stored").isEmpty();
        assertThatThrownBy(() -> service.insertChunks(ME, id, List.of(new EmbeddedChunk("big", "x", Map.of("k", "v".repeat(9000)), null, null, null))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("metadata");
        assertThatThrownBy(() -> service.insertChunks(OTHER, id, List.of(new EmbeddedChunk("c9", "x", null, null, null, null))))
                .isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> service.queryChunks(OTHER, id, new ChunkQuery("silk", 5, Mode.KEYWORD, 0, Ranker.DEFAULT)))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void aFileThatCannotBeRead_fails_withItsReason_andTheStoreKeepsWorking() throws Exception {
        String good = upload(ME, "ok.txt", "Readable words here.");
        String png = upload(ME, "photo.png", new byte[]{(byte) 0x89, 'P', 'N', 'G', 0, 1, 2});
        String binary = upload(ME, "data.txt", new byte[]{(byte) 0xff, (byte) 0xfe, 0, 0, 1});
        String pdf = upload(ME, "broken.pdf", "%PDF-1.4 not really".getBytes(StandardCharsets.US_ASCII));
        String id = service.create(ME, new NewStore("mixed", List.of(good, png, binary, pdf), null, null, null, null, null, null)).id();
        idle();
        assertThat(service.file(ME, id, png).lastError().code()).isEqualTo("unsupported_file");
        assertThat(service.file(ME, id, binary).lastError().code()).isEqualTo("unsupported_file");
        assertThat(service.file(ME, id, pdf).lastError().code()).isEqualTo("invalid_file");
        assertThat(service.file(ME, id, pdf).status()).isEqualTo("failed");
        assertThat(service.file(ME, id, good).status()).isEqualTo("completed");
        assertThat(service.get(ME, id).fileCounts()).isEqualTo(new io.corral.spi.VectorStores.FileCounts(0, 1, 3, 0));
        assertThat(service.files(ME, id, "failed")).hasSize(3);
        assertThat(service.search(ME, id, search("readable", Mode.HYBRID))).extracting(Result::fileId).containsExactly(good);
    }

    @Test
    void anotherTenant_seesNothing() throws Exception {
        String id = storeWith("private words");
        assertThatThrownBy(() -> service.get(OTHER, id)).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> service.search(OTHER, id, search("private", Mode.KEYWORD))).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> service.delete(OTHER, id)).isInstanceOf(NotFoundException.class);
        assertThat(service.list(OTHER)).isEmpty();
        assertThat(service.list(ME)).extracting(s -> s.id()).containsExactly(id);
        String mine = upload(ME, "m.txt", "mine");
        String other = service.create(OTHER, new NewStore("theirs", null, null, null, null, null, null, null)).id();
        assertThatThrownBy(() -> service.addFile(OTHER, other, mine, null, null))
                .as("another tenant's file cannot be added").isInstanceOf(NotFoundException.class);
    }

    @Test
    void searchFilters_readTheFilesAttributes_andAttributesCanChange() throws Exception {
        String id = service.create(ME, new NewStore("s", null, null, null, null, null, null, null)).id();
        String a = upload(ME, "a.txt", "report on rivers");
        String b = upload(ME, "b.txt", "report on mountains");
        service.addFile(ME, id, a, Map.of("year", 2024, "region", "north"), null);
        service.addFile(ME, id, b, Map.of("year", 2025, "region", "south"), null);
        idle();
        var recent = new Search(List.of("report"), new Filter.Comparison("year", Filter.Op.GTE, 2025), 10, Mode.KEYWORD, Ranker.DEFAULT, 0);
        assertThat(service.search(ME, id, recent)).extracting(Result::fileId).containsExactly(b);
        var north = new Search(List.of("report"), Filter.eq("region", "north"), 10, Mode.HYBRID, Ranker.DEFAULT, 0);
        assertThat(service.search(ME, id, north)).extracting(Result::fileId).containsExactly(a);
        assertThat(service.search(ME, id, north).getFirst().attributes()).containsEntry("year", 2024);

        service.updateFile(ME, id, a, Map.of("year", 2026, "region", "north"));
        idle();
        assertThat(service.search(ME, id, recent)).extracting(Result::fileId).containsExactlyInAnyOrder(a, b);
        assertThat(service.file(ME, id, a).attributes()).containsEntry("year", 2026);
    }

    @Test
    void aRemovedFile_leavesTheSearchAndTheCounts() throws Exception {
        String id = storeWith("alpha words", "beta words");
        String alpha = service.search(ME, id, search("alpha", Mode.KEYWORD)).getFirst().fileId();
        service.removeFile(ME, id, alpha);
        assertThat(service.search(ME, id, search("alpha", Mode.KEYWORD))).isEmpty();
        assertThat(service.get(ME, id).fileCounts().total()).isEqualTo(1);
        assertThatThrownBy(() -> service.file(ME, id, alpha)).isInstanceOf(NotFoundException.class);
        assertThat(files.get(ME, alpha)).as("the uploaded file stays").isPresent();
    }

    @Test
    void scoreThreshold_andMaxResults_cutTheResults() throws Exception {
        String id = storeWith("apple pie", "apple tart", "apple apple apple juice", "pear");
        var three = new Search(List.of("apple"), null, 2, Mode.KEYWORD, Ranker.DEFAULT, 0);
        assertThat(service.search(ME, id, three)).hasSize(2);
        List<Result> all = service.search(ME, id, search("apple", Mode.KEYWORD));
        double best = all.getFirst().score();
        var high = new Search(List.of("apple"), null, 10, Mode.KEYWORD, Ranker.DEFAULT, best);
        assertThat(service.search(ME, id, high)).hasSize(1);
        assertThatThrownBy(() -> service.search(ME, id, search("  ", Mode.KEYWORD))).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void completedFiles_surviveARestart_andFilesInProgress_finishAfterIt() throws Exception {
        String id = storeWith("durable text");
        embedder.hold();
        String late = upload(ME, "late.txt", "late arrival");
        service.addFile(ME, id, late, null, null);
        embedder.entered.await(); // the file is being embedded when the server stops
        assertThat(service.file(ME, id, late).status()).isEqualTo("in_progress");
        restart();
        embedder.release();
        idle(); // only a resumed ingestion completes it
        assertThat(service.search(ME, id, search("durable", Mode.KEYWORD))).hasSize(1);
        assertThat(service.search(ME, id, search("arrival", Mode.KEYWORD))).extracting(Result::fileId).containsExactly(late);
        assertThat(service.get(ME, id).fileCounts().completed()).isEqualTo(2);
    }

    @Test
    void aBatch_countsItsFiles_andCancellingStopsThoseNotRead() throws Exception {
        String id = service.create(ME, new NewStore("b", null, null, null, null, null, null, null)).id();
        String x = upload(ME, "x.txt", "x ray"), y = upload(ME, "y.txt", "yellow"), z = upload(ME, "z.txt", "zebra");
        var batch = service.createBatch(ME, id, List.of(x, y), Map.of("source", "batch"), Chunking.fixed(100, 10));
        assertThat(batch.id()).startsWith("vsfb_");
        idle();
        batch = service.batch(ME, id, batch.id());
        assertThat(batch.status()).isEqualTo("completed");
        assertThat(batch.fileCounts().completed()).isEqualTo(2);
        assertThat(service.batchFiles(ME, id, batch.id(), null)).hasSize(2)
                .allSatisfy(f -> assertThat(f.chunking()).isEqualTo(Chunking.fixed(100, 10)));

        embedder.hold();
        var held = service.createBatch(ME, id, List.of(z), null, null);
        embedder.entered.await();
        var cancelled = service.cancelBatch(ME, id, held.id());
        assertThat(cancelled.status()).isEqualTo("cancelled");
        embedder.release();
        idle();
        assertThat(service.file(ME, id, z).status()).isEqualTo("cancelled");
        assertThat(service.search(ME, id, search("zebra", Mode.KEYWORD))).isEmpty();
    }

    @Test
    void aStoreExpires_daysAfterItsLastActivity() throws Exception {
        String id = service.create(ME, new NewStore("e", null, null, null, 1, null, null, null)).id();
        assertThat(service.get(ME, id).expiresAt()).isEqualTo(clock.instant().getEpochSecond() + 86_400);
        clock.advance(Duration.ofHours(25));
        assertThat(service.get(ME, id).status()).isEqualTo("expired");
        assertThatThrownBy(() -> service.search(ME, id, search("x", Mode.KEYWORD))).hasMessageContaining("expired");
    }

    @Test
    void aDeletedStore_isGone() throws Exception {
        String id = storeWith("gone soon");
        service.delete(ME, id);
        assertThatThrownBy(() -> service.get(ME, id)).isInstanceOf(NotFoundException.class);
        restart();
        assertThatThrownBy(() -> service.get(ME, id)).isInstanceOf(NotFoundException.class);
        assertThat(service.list(ME)).isEmpty();
    }

    @Test
    void badRequests_areRefusedClearly() {
        assertThatThrownBy(() -> service.create(ME, new NewStore("x", null, null, null, null, "nope", null, null)))
                .hasMessageContaining("nope");
        assertThatThrownBy(() -> service.create(ME, new NewStore("x", null, null, null, null, null, 12, null)))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("64-dimensional");
        assertThatThrownBy(() -> service.create(ME, new NewStore("x", List.of("file-missing"), null, null, null, null, null, null)))
                .isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> service.create(ME, new NewStore("x", null, null, Map.of("k", List.of(1)), null, null, null, null)))
                .isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> Chunking.fixed(50, 10)).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> Chunking.fixed(200, 150)).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aBackupTakenWhileIngesting_isConsistent_andARestoreFromItIsSearchable() throws Exception {
        String id = storeWith("durable text about rivers");
        embedder.hold();
        String late = upload(ME, "late.txt", "late arrival about mountains");
        service.addFile(ME, id, late, null, null);
        embedder.entered.await();
        Path backup = dir.resolve("backup");
        service.backup(backup);
        assertThatThrownBy(() -> service.backup(backup)).hasMessageContaining("exists");
        embedder.release();
        idle();

        // a server started on the copy
        try (var files2 = new LocalFilesProvider(backup.resolve("files"), clock);
             var kv2 = SqlKeyValueStore.sqlite(backup.resolve("kvstore.db"), clock)) {
            var restored = new VectorStoreService(files2, kv2, Map.of("lucene", new LuceneVectorIo(backup.resolve("vector_io"))),
                    embedder, clock, new VectorStoreService.Config(null, 2, 1 << 20));
            try {
                restored.awaitIdle(Duration.ofSeconds(30));
                assertThat(restored.search(ME, id, search("rivers", Mode.KEYWORD))).hasSize(1);
                assertThat(restored.search(ME, id, search("mountains", Mode.KEYWORD)))
                        .as("the file in progress at the backup finishes after the restore").hasSize(1);
                assertThat(restored.get(ME, id).fileCounts().completed()).isEqualTo(2);
            } finally {
                restored.close();
            }
        }
    }

    @Test
    void aMigration_copiesRecordsAndChunks_toOtherProviders_andTheCopyServes() throws Exception {
        String id = storeWith("glacier ice flows slowly", "volcanic ash clouds", "coral reefs bleach");
        service.close();
        Path other = dir.resolve("other");
        try (var toKv = SqlKeyValueStore.sqlite(other.resolve("kv.db"), clock);
             var from = new LuceneVectorIo(dir.resolve("vectors"));
             var to = new LuceneVectorIo(other.resolve("vectors"))) {
            var report = VectorStoreService.migrate(kv, Map.of("lucene", from), toKv, "scaled", to);
            assertThat(report).singleElement().satisfies(m -> {
                assertThat(m.storeId()).isEqualTo(id);
                assertThat(m.sourceChunks()).isEqualTo(3).isEqualTo(m.targetChunks());
                assertThat(m.sameResults()).isTrue();
            });
        }
        service = start(); // the source is left as it was
        assertThat(service.search(ME, id, search("glacier", Mode.KEYWORD))).hasSize(1);
        try (var toKv = SqlKeyValueStore.sqlite(other.resolve("kv.db"), clock);
             var migrated = new VectorStoreService(files, toKv, Map.of("scaled", new LuceneVectorIo(other.resolve("vectors"))),
                     embedder, clock, new VectorStoreService.Config(null, 2, 1 << 20))) {
            assertThat(migrated.get(ME, id).providerId()).isEqualTo("scaled");
            assertThat(migrated.get(ME, id).fileCounts().completed()).isEqualTo(3);
            assertThat(migrated.search(ME, id, search("volcanic ash", Mode.HYBRID)).getFirst().text()).isEqualTo("volcanic ash clouds");
        }
    }
}

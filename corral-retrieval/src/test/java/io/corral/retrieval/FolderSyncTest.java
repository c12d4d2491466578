package io.corral.retrieval;

import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider.Mode;
import io.corral.spi.VectorStores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FolderSyncTest extends EmbeddedStoresTest {

    Path folder;

    @BeforeEach
    void makeStore() throws Exception {
        service.create(null, new VectorStores.NewStore("knowledge", "knowledge", null, null, null, null, null, null, null));
        folder = Files.createDirectories(dir.resolve("knowledge"));
    }

    private FolderSync.Summary sync() throws Exception {
        var summary = FolderSync.sync(folder, FolderSync.direct(service, files, null, "knowledge", null));
        service.awaitIdle(Duration.ofSeconds(30));
        return summary;
    }

    private List<String> found(String query) {
        return service.search(null, "knowledge", new VectorStores.Search(List.of(query), null, 10, Mode.KEYWORD, Ranker.DEFAULT, 0))
                .stream().map(VectorStores.Result::filename).toList();
    }

    @Test
    void newChangedAndRemovedFiles_followTheFolder_andUnchangedOnesAreNotEmbeddedAgain() throws Exception {
        Files.writeString(folder.resolve("a.txt"), "apples grow on trees");
        Files.writeString(folder.resolve("b.md"), "# Bananas\n\nbananas are yellow");
        Files.createDirectories(folder.resolve("sub"));
        Files.writeString(folder.resolve("sub/c.html"), "<html><body><p>cherries are red</p></body></html>");
        Files.writeString(folder.resolve(".hidden"), "secret hidden words");
        Path outside = Files.writeString(dir.resolve("outside.txt"), "outside words");
        Files.createSymbolicLink(folder.resolve("link.txt"), outside);
        Files.createSymbolicLink(folder.resolve("inside-link.txt"), folder.resolve("a.txt"));

        var first = sync();
        assertThat(first.added()).isEqualTo(4);
        assertThat(first.skipped()).containsExactly("link.txt (a link out of the folder)");
        assertThat(found("cherries")).containsExactly("sub/c.html");
        assertThat(found("outside")).isEmpty();
        assertThat(found("secret")).isEmpty();
        int embedded = embedder.texts.get();

        Files.writeString(folder.resolve("b.md"), "# Bananas\n\nbananas are green before they ripen");
        Files.delete(folder.resolve("inside-link.txt"));
        Files.delete(folder.resolve("a.txt"));
        Files.writeString(folder.resolve("d.txt"), "dates are sweet");
        var second = sync();
        assertThat(second).extracting(FolderSync.Summary::added, FolderSync.Summary::changed, FolderSync.Summary::removed,
                FolderSync.Summary::unchanged).containsExactly(1, 1, 2, 1);
        assertThat(embedder.texts.get() - embedded).as("only the new and the changed file are embedded").isEqualTo(2);
        assertThat(found("apples")).isEmpty();
        assertThat(found("green")).containsExactly("b.md");
        assertThat(found("yellow")).isEmpty();
        assertThat(found("dates")).containsExactly("d.txt");
        assertThat(service.get(null, "knowledge").fileCounts().total()).isEqualTo(3);
        assertThat(files.list(null, null)).as("replaced and removed uploads are deleted").hasSize(3);

        var third = sync();
        assertThat(third.unchanged()).isEqualTo(3);
        assertThat(third.added() + third.changed() + third.removed()).isZero();
    }

    @Test
    void aWatchedFolder_isSyncedAgainAfterItChanges() throws Exception {
        Files.writeString(folder.resolve("first.txt"), "first words");
        sync();
        var synced = new java.util.concurrent.LinkedBlockingQueue<FolderSync.Summary>();
        try (var watch = new FolderWatch(folder, 100, () -> FolderSync.sync(folder, FolderSync.direct(service, files, null, "knowledge", null)),
                synced::add)) {
            Files.createDirectories(folder.resolve("later"));
            Files.writeString(folder.resolve("later/second.txt"), "second thoughts");
            FolderSync.Summary s;
            do {
                s = synced.poll(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(s).as("a sync after the change").isNotNull();
            } while (s.added() == 0);
            assertThat(s.added()).isEqualTo(1);
            service.awaitIdle(Duration.ofSeconds(30));
            assertThat(found("thoughts")).containsExactly("later/second.txt");
        }
    }
}

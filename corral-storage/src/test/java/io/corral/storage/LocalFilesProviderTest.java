package io.corral.storage;

import io.corral.spi.Api;
import io.corral.spi.FilesProvider;
import io.corral.spi.ProviderFactory;
import io.corral.testing.FilesProviderContract;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Files on the local disk keep the files contract; the factories are found by provider type. */
class LocalFilesProviderTest extends FilesProviderContract {

    @TempDir
    Path dir;

    @Override
    protected FilesProvider open(TestClock clock) {
        return new LocalFilesProvider(dir.resolve("files"), clock);
    }

    @Test
    void aFileIsItsBytesOnDisk_andARecordInTheStore_andTheFactoriesAreFound() throws Exception {
        var info = files.upload(TENANT, "a.txt", "assistants", null, bytes("abc"));
        try (var names = Files.list(dir.resolve("files"))) {
            assertThat(names.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("metadata.db")))
                    .containsExactly(info.id());
        }
        assertThat(ProviderFactory.find(Api.FILES, "inline::localfs")).isPresent();
        assertThat(ProviderFactory.find(Api.STORAGE, "inline::sqlite")).isPresent();
        assertThat(ProviderFactory.known(Api.FILES)).containsExactly("inline::localfs");
    }

    @Test
    void withTheServersStateStore_theRecordsAreThere_andRecordsBesideTheBytesAreAdopted() throws Exception {
        files.close();
        Path folder = dir.resolve("shared");
        Files.createDirectories(folder);
        // a file as an older Corral kept it: its record beside its bytes
        String id = "file-0123456789abcdef0123456789abcdef";
        Files.writeString(folder.resolve(id), "old bytes");
        Files.writeString(folder.resolve(id + ".json"), "{\"info\":{\"id\":\"" + id + "\",\"filename\":\"old.txt\",\"purpose\":"
                + "\"assistants\",\"bytes\":9,\"createdAt\":1,\"expiresAt\":null},\"tenant\":\"" + TENANT + "\"}");
        try (var state = SqlKeyValueStore.sqlite(dir.resolve("state.db"), clock)) {
            files = new LocalFilesProvider(folder, state, clock);
            assertThat(files.get(TENANT, id)).hasValueSatisfying(i -> assertThat(i.filename()).isEqualTo("old.txt"));
            assertThat(folder.resolve(id + ".json")).doesNotExist();
            var added = files.upload(TENANT, "new.txt", "assistants", null, bytes("new"));
            assertThat(state.prefix("files/")).extracting(java.util.Map.Entry::getKey)
                    .containsExactlyInAnyOrder("files/" + id, "files/" + added.id());
            assertThat(folder.resolve("metadata.db")).doesNotExist();
            files.close();
        }
        files = open(clock); // for the contract's own close
    }
}

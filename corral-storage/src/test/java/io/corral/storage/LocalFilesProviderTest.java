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
    void aFileIsListedOnlyOnceWhole_andTheFactoriesAreFound() throws Exception {
        var info = files.upload(TENANT, "a.txt", "assistants", null, bytes("abc"));
        try (var names = Files.list(dir.resolve("files"))) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(info.id(), info.id() + ".json");
        }
        assertThat(ProviderFactory.find(Api.FILES, "inline::localfs")).isPresent();
        assertThat(ProviderFactory.find(Api.STORAGE, "inline::sqlite")).isPresent();
        assertThat(ProviderFactory.known(Api.FILES)).containsExactly("inline::localfs");
    }
}

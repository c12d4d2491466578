package io.corral.storage;

import io.corral.spi.Api;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.ProviderFactory;

import java.nio.file.Path;
import java.time.Clock;

/** The storage providers a distribution config names. */
public final class StorageFactories {

    private StorageFactories() {
    }

    private static Path path(String configured, Path fallback) {
        return configured == null || configured.isBlank() ? fallback
                : Path.of(configured.strip().replaceFirst("^~(?=/|$)", System.getProperty("user.home")));
    }

    /** {@code storage: inline::sqlite} with {@code db_path} (default: {@code kvstore.db} in the cache folder). */
    public static final class Sqlite extends ProviderFactory.Base<Sqlite.Config, KeyValueStore> {
        public record Config(String dbPath) {
        }

        public Sqlite() {
            super(Api.STORAGE, "inline::sqlite", Config.class);
        }

        public KeyValueStore create(String id, String type, Config config, Context context) {
            return SqliteKeyValueStore.open(path(config.dbPath(), context.cacheDir().resolve("kvstore.db")), Clock.systemUTC());
        }
    }

    /** {@code files: inline::localfs} with {@code storage_dir} (default: {@code files/} in the cache folder). */
    public static final class LocalFs extends ProviderFactory.Base<LocalFs.Config, FilesProvider> {
        public record Config(String storageDir) {
        }

        public LocalFs() {
            super(Api.FILES, "inline::localfs", Config.class);
        }

        public FilesProvider create(String id, String type, Config config, Context context) {
            return new LocalFilesProvider(path(config.storageDir(), context.cacheDir().resolve("files")), Clock.systemUTC());
        }
    }
}

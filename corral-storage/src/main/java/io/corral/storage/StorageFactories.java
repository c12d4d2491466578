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
            return SqlKeyValueStore.sqlite(path(config.dbPath(), context.cacheDir().resolve("kvstore.db")), Clock.systemUTC());
        }
    }

    /**
     * {@code storage: remote::postgres} (Llama Stack's {@code kvstore} of type postgres): {@code host},
     * {@code port} (5432), {@code db} (corral), {@code user}, {@code password}.
     */
    public static final class Postgres extends ProviderFactory.Base<Postgres.Config, KeyValueStore> {
        public record Config(String host, Integer port, String db, String user, String password) {
            public Config {
                host = host == null || host.isBlank() ? "127.0.0.1" : host;
                port = port == null ? 5432 : port;
                db = db == null || db.isBlank() ? "corral" : db;
                if (port < 1 || port > 65535) {
                    throw new io.corral.api.InvalidRequestException("port", "port must be from 1 to 65535");
                }
            }
        }

        public Postgres() {
            super(Api.STORAGE, "remote::postgres", Config.class);
        }

        public KeyValueStore create(String id, String type, Config config, Context context) {
            String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
            return SqlKeyValueStore.postgres("jdbc:postgresql://" + host + ":" + config.port() + "/" + config.db(),
                    config.user(), config.password(), Clock.systemUTC());
        }
    }

    /** {@code files: inline::localfs} with {@code storage_dir} (default: {@code files/} in the cache folder). */
    public static final class LocalFs extends ProviderFactory.Base<LocalFs.Config, FilesProvider> {
        public record Config(String storageDir) {
            /** Llama Stack's localfs keys: Corral keeps the records in the {@code storage} provider and files until deleted. */
            public static final java.util.Set<String> LLAMA_STACK_UNUSED = java.util.Set.of("metadata_store", "ttl_secs");
        }

        public LocalFs() {
            super(Api.FILES, "inline::localfs", Config.class);
        }

        public FilesProvider create(String id, String type, Config config, Context context) {
            // the files' records in the server's state store when there is one, else beside the files
            return new LocalFilesProvider(path(config.storageDir(), context.cacheDir().resolve("files")), context.state(), Clock.systemUTC());
        }
    }
}

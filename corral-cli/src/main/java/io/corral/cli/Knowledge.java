package io.corral.cli;

import io.corral.config.Distribution;
import io.corral.config.DistributionConfig;
import io.corral.retrieval.Embedder;
import io.corral.retrieval.VectorStoreService;
import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.Api;
import io.corral.spi.FilesProvider;
import io.corral.spi.KeyValueStore;
import io.corral.spi.ProviderFactory;
import io.corral.spi.VectorIoProvider;
import io.corral.storage.SqlKeyValueStore;

import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What retrieval runs on, assembled from a distribution config or the embedded defaults: uploaded files (the
 * files provider, else the local disk), state (the storage provider, else SQLite), chunks (the vector_io
 * providers, else Lucene), all under the cache folder unless configured; and the vector stores service over
 * them, embedding with the models the embedder serves.
 */
final class Knowledge implements AutoCloseable {

    final FilesProvider files;
    final KeyValueStore state;
    final VectorStoreService stores;

    private Knowledge(FilesProvider files, KeyValueStore state, VectorStoreService stores) {
        this.files = files;
        this.state = state;
        this.stores = stores;
    }

    /** The providers retrieval runs on, from the config or the embedded defaults, the default vector_io first. */
    record Parts(FilesProvider files, KeyValueStore state, Map<String, VectorIoProvider> vectorIo,
                 VectorStoreService.Config config) implements AutoCloseable {
        @Override
        public void close() {
            vectorIo.values().forEach(VectorIoProvider::close);
            files.close();
            state.close();
        }
    }

    static Parts parts(Path configFile, DistributionConfig distribution) {
        ProviderFactory.Context system = ProviderFactory.Context.system();
        KeyValueStore state = first(configFile, distribution, Api.STORAGE, system,
                () -> SqlKeyValueStore.sqlite(system.cacheDir().resolve("kvstore.db"), Clock.systemUTC()));
        ProviderFactory.Context context = system.withState(state); // the files' records go to the state store
        FilesProvider files = null;
        Map<String, VectorIoProvider> vectorIo = new LinkedHashMap<>();
        try {
            files = first(configFile, distribution, Api.FILES, context,
                    () -> new io.corral.storage.LocalFilesProvider(context.cacheDir().resolve("files"), state, Clock.systemUTC()));
            for (DistributionConfig.Provider p : providers(distribution, Api.VECTOR_IO)) {
                vectorIo.put(p.id(), (VectorIoProvider) Distribution.create(configFile, p, p.config(), "providers.vector_io", context));
            }
            if (vectorIo.isEmpty()) {
                vectorIo.put("lucene", new LuceneVectorIo(context.cacheDir().resolve("vector_io")));
            }
            var defaults = distribution == null ? null : distribution.vectorStores();
            VectorStoreService.Config config = VectorStoreService.Config.defaults();
            if (defaults != null && defaults.defaultEmbeddingModel() != null) {
                config = new VectorStoreService.Config(defaults.defaultEmbeddingModel(), config.workers(), config.maxFileBytes());
            }
            if (defaults != null && defaults.defaultProviderId() != null) {
                VectorIoProvider first = vectorIo.remove(defaults.defaultProviderId());
                if (first == null) {
                    throw new IllegalArgumentException(configFile + ": vector_stores.default_provider_id names no vector_io provider '"
                            + defaults.defaultProviderId() + "'; configured: " + vectorIo.keySet());
                }
                Map<String, VectorIoProvider> ordered = new LinkedHashMap<>();
                ordered.put(defaults.defaultProviderId(), first);
                ordered.putAll(vectorIo);
                vectorIo = ordered;
            }
            return new Parts(files, state, vectorIo, config);
        } catch (RuntimeException e) {
            vectorIo.values().forEach(VectorIoProvider::close);
            if (files != null) {
                files.close();
            }
            state.close();
            throw e;
        }
    }

    static Knowledge open(Path configFile, DistributionConfig distribution, Embedder embedder) {
        Parts parts = parts(configFile, distribution);
        try {
            VectorStoreService stores = new VectorStoreService(parts.files(), parts.state(), parts.vectorIo(), embedder,
                    Clock.systemUTC(), parts.config());
            return new Knowledge(parts.files(), parts.state(), stores);
        } catch (RuntimeException e) {
            parts.close();
            throw e;
        }
    }

    private static List<DistributionConfig.Provider> providers(DistributionConfig d, Api api) {
        return d == null ? List.of() : d.providers().getOrDefault(api.section(), List.of());
    }

    @SuppressWarnings("unchecked")
    private static <T> T first(Path configFile, DistributionConfig d, Api api, ProviderFactory.Context context,
                               java.util.function.Supplier<T> fallback) {
        List<DistributionConfig.Provider> ps = providers(d, api);
        if (ps.isEmpty()) {
            return fallback.get();
        }
        DistributionConfig.Provider p = ps.getFirst();
        return (T) Distribution.create(configFile, p, p.config(), "providers." + api.section() + "[0]", context);
    }

    private final List<io.corral.retrieval.FolderWatch> watches = new java.util.ArrayList<>();

    /**
     * Brings each knowledge folder's store in step with its folder (the store is made the first time, shared by
     * every caller), and watches those that ask for it.
     */
    void syncFolders(DistributionConfig distribution) {
        if (distribution == null || distribution.vectorStores() == null) {
            return;
        }
        System.Logger log = System.getLogger("corral");
        for (DistributionConfig.Folder f : distribution.vectorStores().stores()) {
            if (!java.nio.file.Files.isDirectory(f.folder())) {
                throw new IllegalArgumentException("vector_stores: the folder " + f.folder() + " of store " + f.id() + " is not a folder");
            }
            boolean exists = stores.list(null).stream().anyMatch(s -> s.id().equals(f.id()));
            if (!exists) {
                stores.create(null, new io.corral.spi.VectorStores.NewStore(f.id(), f.id(), null, f.chunking(), null, null,
                        f.embeddingModel(), null, null));
            }
            var target = io.corral.retrieval.FolderSync.direct(stores, files, null, f.id(), f.chunking());
            java.util.concurrent.Callable<io.corral.retrieval.FolderSync.Summary> sync = () -> io.corral.retrieval.FolderSync.sync(f.folder(), target);
            java.util.function.Consumer<io.corral.retrieval.FolderSync.Summary> report = s -> log.log(System.Logger.Level.INFO,
                    "knowledge %s from %s: %d new, %d changed, %d removed, %d unchanged%s".formatted(f.id(), f.folder(), s.added(),
                            s.changed(), s.removed(), s.unchanged(), s.skipped().isEmpty() ? "" : "; skipped " + s.skipped()));
            try {
                report.accept(sync.call());
                if (f.watch()) {
                    watches.add(new io.corral.retrieval.FolderWatch(f.folder(), 500, sync, report));
                }
            } catch (Exception e) {
                throw new IllegalArgumentException("vector_stores: cannot read " + f.folder() + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() {
        watches.forEach(io.corral.retrieval.FolderWatch::close);
        stores.close();
        files.close();
        state.close();
    }
}

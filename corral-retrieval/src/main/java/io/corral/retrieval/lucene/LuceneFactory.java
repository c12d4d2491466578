package io.corral.retrieval.lucene;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.VectorIoProvider;

import java.nio.file.Path;

/**
 * {@code vector_io: inline::lucene} with {@code path} (default: {@code vector_io/} in the cache folder). Llama
 * Stack's embedded types, {@code inline::faiss} and {@code inline::sqlite-vec}, are served by the same store, so
 * a Llama Stack distribution runs unchanged (their storage keys are listed as ignored).
 */
public final class LuceneFactory extends ProviderFactory.Base<LuceneFactory.Config, VectorIoProvider> {

    public record Config(String path) {
        public static final java.util.Set<String> LLAMA_STACK_UNUSED = java.util.Set.of("kvstore", "persistence", "db_path");
    }

    private static final java.util.List<String> TYPES = java.util.List.of("inline::lucene", "inline::faiss", "inline::sqlite-vec");

    @Override
    public boolean supports(String type) {
        return TYPES.contains(type);
    }

    @Override
    public java.util.List<String> types() {
        return TYPES;
    }

    public LuceneFactory() {
        super(Api.VECTOR_IO, "inline::lucene", Config.class);
    }

    @Override
    public VectorIoProvider create(String id, String type, Config config, Context context) {
        return new LuceneVectorIo(config.path() == null || config.path().isBlank() ? context.cacheDir().resolve("vector_io")
                : Path.of(config.path().strip().replaceFirst("^~(?=/|$)", System.getProperty("user.home"))));
    }
}

package io.corral.retrieval.lucene;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.VectorIoProvider;

import java.nio.file.Path;

/** {@code vector_io: inline::lucene} with {@code path} (default: {@code vector_io/} in the cache folder). */
public final class LuceneFactory extends ProviderFactory.Base<LuceneFactory.Config, VectorIoProvider> {

    public record Config(String path) {
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

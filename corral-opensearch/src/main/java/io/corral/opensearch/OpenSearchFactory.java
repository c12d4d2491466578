package io.corral.opensearch;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.spi.VectorIoProvider;

/** {@code vector_io: remote::opensearch} with {@code url} (default http://127.0.0.1:9200), {@code user}, {@code password}, {@code index_prefix}. */
public final class OpenSearchFactory extends ProviderFactory.Base<OpenSearchFactory.Config, VectorIoProvider> {

    public record Config(String url, String user, String password, String indexPrefix) {
        public Config {
            url = url == null || url.isBlank() ? "http://127.0.0.1:9200" : url.strip();
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new io.corral.api.InvalidRequestException("url", "url must start with http:// or https://");
            }
        }
    }

    public OpenSearchFactory() {
        super(Api.VECTOR_IO, "remote::opensearch", Config.class);
    }

    @Override
    public VectorIoProvider create(String id, String type, Config config, Context context) {
        return new OpenSearchVectorIo(config.url(), config.user(), config.password(), config.indexPrefix());
    }
}

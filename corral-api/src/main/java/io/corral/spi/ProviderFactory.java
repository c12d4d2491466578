package io.corral.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Makes the providers of one API and one {@code provider_type} (e.g. {@code inline::llamacpp} for
 * {@link Api#INFERENCE}), found with {@link ServiceLoader}. Its configuration is a record bound from the
 * provider's {@code config:} section: each component is a snake_case key ({@code contextSize} is
 * {@code context_size}); an absent key is null (zero or false for a primitive), and the record's constructor
 * applies defaults and checks values, throwing {@link io.corral.api.InvalidRequestException} naming the key.
 * Keys the record does not have are errors. So a provider is swapped by changing its type in the file.
 *
 * @param <C> the configuration record
 * @param <P> what it makes: an {@link InferenceProvider} for inference; each API's own type
 */
public interface ProviderFactory<C extends Record, P> {

    Api api();

    /** The {@code provider_type} it makes. */
    String type();

    /** Whether it makes {@code type} (a factory may cover a family, e.g. the {@code remote::*} engines). */
    default boolean supports(String type) {
        return type().equals(type);
    }

    /** The types it makes, for messages that list what is known. */
    default List<String> types() {
        return List.of(type());
    }

    Class<C> configType();

    /** Makes provider {@code id} of {@code type} (one {@link #supports} accepts) from its configuration. */
    P create(String id, String type, C config, Context context);

    /** A factory that only says how to make its provider: its API, type and config record are given once. */
    abstract class Base<C extends Record, P> implements ProviderFactory<C, P> {
        private final Api api;
        private final String type;
        private final Class<C> configType;

        protected Base(Api api, String type, Class<C> configType) {
            this.api = api;
            this.type = type;
            this.configType = configType;
        }

        @Override
        public Api api() {
            return api;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public Class<C> configType() {
            return configType;
        }
    }

    /**
     * What a provider may read besides its own section: the environment, the cache folder, the state store
     * (the {@code storage} provider, or null where none is made yet), where providers of other APIs keep records,
     * and the models Corral serves (by id; null where none are made yet), which a shield's guard model is.
     */
    record Context(Map<String, String> environment, Path cacheDir, KeyValueStore state,
                   java.util.function.Function<String, InferenceProvider> models) {
        public Context(Map<String, String> environment, Path cacheDir) {
            this(environment, cacheDir, null, null);
        }

        public Context withState(KeyValueStore s) {
            return new Context(environment, cacheDir, s, models);
        }

        public Context withModels(java.util.function.Function<String, InferenceProvider> m) {
            return new Context(environment, cacheDir, state, m);
        }

        public static Context system() {
            return new Context(System.getenv(), Path.of(System.getProperty("corral.cache",
                    System.getProperty("user.home") + "/.cache/corral")));
        }
    }

    /** Every factory on the class path. */
    @SuppressWarnings("rawtypes")
    static List<ProviderFactory<?, ?>> all() {
        List<ProviderFactory<?, ?>> all = new java.util.ArrayList<>();
        for (ProviderFactory f : ServiceLoader.load(ProviderFactory.class)) {
            all.add(f);
        }
        return all;
    }

    /** The factory for {@code type} of {@code api}, if one is on the class path. */
    static Optional<ProviderFactory<?, ?>> find(Api api, String type) {
        return all().stream().filter(f -> f.api() == api && f.supports(type)).findFirst();
    }

    /** The provider types known for {@code api}. */
    static List<String> known(Api api) {
        return all().stream().filter(f -> f.api() == api).flatMap(f -> f.types().stream()).sorted().toList();
    }
}

package io.corral.spi;

import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Creates providers of one type; found with {@link ServiceLoader}. The type is the distribution
 * config's {@code provider_type}, e.g. {@code "inline::llamacpp"} or {@code "remote::openai"}.
 */
public interface InferenceProviderFactory {

    String type();

    /** Whether it makes providers of {@code type} (a factory may cover a family, e.g. {@code remote::*}). */
    default boolean supports(String type) {
        return type().equals(type);
    }

    /** Creates a provider named {@code id} from its config section (string keys and values). */
    InferenceProvider create(String id, Map<String, String> config);

    /** The factory for {@code type} on the class path, if any. */
    static Optional<InferenceProviderFactory> find(String type) {
        return ServiceLoader.load(InferenceProviderFactory.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(f -> f.supports(type))
                .findFirst();
    }
}

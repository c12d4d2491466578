package io.corral.retrieval;

import io.corral.api.EmbeddingRequest;
import io.corral.api.ModelNotFoundException;
import io.corral.spi.ModelInfo;
import io.corral.spi.ModelType;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/** The embedding models vector stores use: any model Corral serves with type {@code embedding}. */
public interface Embedder {

    /** One vector per text, in order, from {@code model}. */
    List<float[]> embed(String model, List<String> texts);

    /** The embedding models served, with their dimensions. */
    List<ModelInfo> models();

    /** The model's vectors' size; a model that is not served (or makes no embeddings) is refused. */
    default int dimension(String model) {
        ModelInfo info = models().stream().filter(m -> m.id().equals(model)).findFirst()
                .orElseThrow(() -> new ModelNotFoundException("no embedding model " + model + " is served"));
        if (info.type() != ModelType.EMBEDDING || info.dimension() <= 0) {
            throw new io.corral.api.InvalidRequestException("embedding_model", "model " + model + " makes no embeddings");
        }
        return info.dimension();
    }

    /** Over a router of models (a {@code Corral}, the server's directory): its {@code embed} and its model list. */
    static Embedder of(Function<EmbeddingRequest, io.corral.api.EmbeddingResult> embed, Supplier<List<ModelInfo>> models) {
        return new Embedder() {
            @Override
            public List<float[]> embed(String model, List<String> texts) {
                return embed.apply(new EmbeddingRequest(model, texts)).vectors();
            }

            @Override
            public List<ModelInfo> models() {
                return models.get().stream().filter(m -> m.type() == ModelType.EMBEDDING).toList();
            }
        };
    }
}

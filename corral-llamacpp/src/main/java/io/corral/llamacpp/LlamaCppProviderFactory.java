package io.corral.llamacpp;

import io.corral.spi.Api;
import io.corral.spi.InferenceProvider;
import io.corral.spi.ProviderFactory;

import java.nio.file.Path;

/** {@code inline::llamacpp}: a GGUF model run in-process (the bundled model when none is named). */
public final class LlamaCppProviderFactory extends ProviderFactory.Base<LlamaCppProviderFactory.Config, InferenceProvider> {

    /**
     * Its {@code config:} section.
     *
     * @param model           the GGUF file; empty for the bundled stories260K
     * @param modelId         the id requests use; the file name without {@code .gguf} when empty
     * @param contextSize     the context window of each request, in tokens; 0 for the model's own, capped at 8192
     * @param threads         CPU threads for the decode; 0 for all cores
     * @param batchSize       tokens evaluated per decode step (512)
     * @param parallel        generations decoded together (2)
     * @param gpuLayers       layers offloaded to the GPU; as many as fit when left out, 0 for none
     * @param mainGpu         the GPU for the whole model with {@code split_mode: none} (0)
     * @param splitMode       {@code none}, {@code layer} (default) or {@code row}: how layers spread over several GPUs
     * @param noGpu           true: no GPU at all, as if none were present
     * @param mmproj          the model's multimodal projector (GGUF), so that it sees images; by default one beside
     *                        the model ({@code NAME.mmproj.gguf} or {@code mmproj-NAME.gguf}) if there is one
     */
    public record Config(String model, String modelId, int contextSize, int threads, Integer batchSize, Integer parallel,
                         Integer gpuLayers, Integer mainGpu, String splitMode, Boolean noGpu, String mmproj) {

        public Config {
            LlamaCppConfig.check(contextSize, threads, batchSize == null ? 512 : batchSize, parallel == null ? 2 : parallel);
            Offload.of(gpuLayers, mainGpu, splitMode, noGpu);
        }

        LlamaCppConfig engine() {
            return new LlamaCppConfig(model == null || model.isBlank() ? BundledModel.path() : Path.of(model), modelId,
                    contextSize, threads, batchSize == null ? 512 : batchSize, parallel == null ? 2 : parallel,
                    Offload.of(gpuLayers, mainGpu, splitMode, noGpu), mmproj == null || mmproj.isBlank() ? null : Path.of(mmproj));
        }
    }

    public LlamaCppProviderFactory() {
        super(Api.INFERENCE, "inline::llamacpp", Config.class);
    }

    @Override
    public InferenceProvider create(String id, String type, Config config, Context context) {
        return LlamaCppEngine.open(id, config.engine());
    }
}

package io.corral.llamacpp;

import io.corral.api.InvalidRequestException;

import java.util.Locale;

/**
 * How much of a model goes to the GPU, in llama.cpp's terms.
 *
 * @param gpuLayers the layers to offload, counting the output layer as one more than the model's blocks (llama.cpp
 *                  offloads the output first, then blocks from the last); null for as many as fit in the devices' free
 *                  memory ({@link LayerFit}); 0 keeps the weights in host memory
 * @param mainGpu   the device index for the whole model when {@code splitMode} is {@code none}
 * @param splitMode how layers spread over several GPUs: {@code none}, {@code layer} (llama.cpp's default) or {@code row}
 * @param noGpu     no GPU at all: no layer, no KV cache and no operation offloaded, as if none were present
 */
public record Offload(Integer gpuLayers, int mainGpu, SplitMode splitMode, boolean noGpu) {

    /** As many layers as fit, split by layer over every GPU. */
    public static final Offload AUTO = new Offload(null, 0, SplitMode.LAYER, false);
    /** The CPU only. */
    public static final Offload NONE = new Offload(0, 0, SplitMode.LAYER, true);

    /** llama.cpp's {@code enum llama_split_mode}, in its order. */
    public enum SplitMode {
        NONE, LAYER, ROW;

        /** Reads {@code none}, {@code layer} or {@code row}; anything else names the key. */
        public static SplitMode parse(String key, String value) {
            try {
                return valueOf(value.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(key, key + " must be none, layer or row, was '" + value + "'");
            }
        }

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Offload {
        if (splitMode == null) {
            splitMode = SplitMode.LAYER;
        }
        if (gpuLayers != null && gpuLayers < 0) {
            throw new InvalidRequestException("gpu_layers", "gpu_layers must be 0 or more, was " + gpuLayers
                    + " (leave it out for as many as fit)");
        }
        if (mainGpu < 0) {
            throw new InvalidRequestException("main_gpu", "main_gpu must be 0 or more, was " + mainGpu);
        }
        if (noGpu) {
            gpuLayers = 0;
        }
    }

    /** From the CLI's or the config's values; any of them null for its default. */
    public static Offload of(Integer gpuLayers, Integer mainGpu, String splitMode, Boolean noGpu) {
        return new Offload(gpuLayers, mainGpu == null ? 0 : mainGpu,
                splitMode == null ? SplitMode.LAYER : SplitMode.parse("split_mode", splitMode),
                noGpu != null && noGpu);
    }
}

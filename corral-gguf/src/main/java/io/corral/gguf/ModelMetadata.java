package io.corral.gguf;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a GGUF file says about its model, read from the header alone.
 *
 * @param quantization  the file type named by {@code general.file_type}, or else the most common
 *                      weight type (by bytes)
 * @param contextLength the trained context window ({@code <arch>.context_length})
 */
public record ModelMetadata(
        Path file,
        long fileSize,
        int ggufVersion,
        String name,
        String architecture,
        long parameterCount,
        String quantization,
        int contextLength,
        int embeddingLength,
        int layers,
        int heads,
        int headsKv,
        int vocabSize,
        boolean hasChatTemplate,
        int tensorCount) {

    /** Reads and checks {@code file}; throws {@link io.corral.api.InvalidModelException} for a bad one. */
    public static ModelMetadata read(Path file) {
        return of(file, GgufReader.read(file));
    }

    /** What a header already read says ({@link GgufReader#read}), without reading the file again. */
    public static ModelMetadata of(Path file, GgufFile gguf) {
        String arch = gguf.string("general.architecture");
        if (arch == null) {
            throw new io.corral.api.InvalidModelException("GGUF file has no general.architecture: " + file);
        }
        long params = gguf.tensors().stream().mapToLong(GgufFile.TensorInfo::elements).sum();
        String name = gguf.string("general.name");
        return new ModelMetadata(file, gguf.fileSize(), gguf.version(), name == null ? "" : name, arch, params,
                quantization(gguf), (int) gguf.number(arch + ".context_length", 0),
                (int) gguf.number(arch + ".embedding_length", 0), (int) gguf.number(arch + ".block_count", 0),
                (int) gguf.number(arch + ".attention.head_count", 0),
                (int) gguf.number(arch + ".attention.head_count_kv", gguf.number(arch + ".attention.head_count", 0)),
                (int) Math.max(gguf.arrayLength("tokenizer.ggml.tokens"), gguf.number(arch + ".vocab_size", 0)),
                gguf.string("tokenizer.chat_template") != null, gguf.tensors().size());
    }

    // llama_ftype values, from llama.h
    private static final Map<Integer, String> FILE_TYPES = Map.ofEntries(
            Map.entry(0, "F32"), Map.entry(1, "F16"), Map.entry(2, "Q4_0"), Map.entry(3, "Q4_1"),
            Map.entry(7, "Q8_0"), Map.entry(8, "Q5_0"), Map.entry(9, "Q5_1"), Map.entry(10, "Q2_K"),
            Map.entry(11, "Q3_K_S"), Map.entry(12, "Q3_K_M"), Map.entry(13, "Q3_K_L"), Map.entry(14, "Q4_K_S"),
            Map.entry(15, "Q4_K_M"), Map.entry(16, "Q5_K_S"), Map.entry(17, "Q5_K_M"), Map.entry(18, "Q6_K"),
            Map.entry(19, "IQ2_XXS"), Map.entry(20, "IQ2_XS"), Map.entry(21, "Q2_K_S"), Map.entry(22, "IQ3_XS"),
            Map.entry(23, "IQ3_XXS"), Map.entry(24, "IQ1_S"), Map.entry(25, "IQ4_NL"), Map.entry(26, "IQ3_S"),
            Map.entry(27, "IQ3_M"), Map.entry(28, "IQ2_S"), Map.entry(29, "IQ2_M"), Map.entry(30, "IQ4_XS"),
            Map.entry(31, "IQ1_M"), Map.entry(32, "BF16"), Map.entry(36, "TQ1_0"), Map.entry(37, "TQ2_0"),
            Map.entry(38, "MXFP4_MOE"));

    private static String quantization(GgufFile gguf) {
        long fileType = gguf.number("general.file_type", -1);
        if (FILE_TYPES.containsKey((int) fileType)) {
            return FILE_TYPES.get((int) fileType);
        }
        return gguf.tensors().stream()
                .collect(Collectors.groupingBy(GgufFile.TensorInfo::type,
                        Collectors.summingLong(GgufFile.TensorInfo::byteSize)))
                .entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name()).orElse("unknown");
    }

    /** A short human-readable size such as {@code "292.8K"} or {@code "1.24B"}. */
    public String parameterCountText() {
        if (parameterCount >= 1_000_000_000) {
            return "%.2fB".formatted(parameterCount / 1e9);
        }
        if (parameterCount >= 1_000_000) {
            return "%.1fM".formatted(parameterCount / 1e6);
        }
        return "%.1fK".formatted(parameterCount / 1e3);
    }

    /** The fields as an ordered map, for JSON and tables. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", file.toString());
        m.put("file_size", fileSize);
        m.put("gguf_version", ggufVersion);
        m.put("name", name);
        m.put("architecture", architecture);
        m.put("parameters", parameterCount);
        m.put("quantization", quantization);
        m.put("context_length", contextLength);
        m.put("embedding_length", embeddingLength);
        m.put("layers", layers);
        m.put("heads", heads);
        m.put("heads_kv", headsKv);
        m.put("vocab_size", vocabSize);
        m.put("chat_template", hasChatTemplate);
        m.put("tensors", tensorCount);
        return m;
    }
}

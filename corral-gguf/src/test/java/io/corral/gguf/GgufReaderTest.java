package io.corral.gguf;

import io.corral.api.InvalidModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufReaderTest {

    static Path stories() {
        Path root = Path.of(System.getProperty("corral.root", ".")).toAbsolutePath();
        return root.resolveSibling("shared").resolve("models/stories260K.gguf");
    }

    @Test
    void readsTheBundledModelsMetadata() {
        ModelMetadata m = ModelMetadata.read(stories());
        assertThat(m.architecture()).isEqualTo("llama");
        assertThat(m.name()).isEqualTo("stories260K");
        assertThat(m.contextLength()).isEqualTo(512);
        assertThat(m.embeddingLength()).isEqualTo(64);
        assertThat(m.layers()).isEqualTo(5);
        assertThat(m.heads()).isEqualTo(8);
        assertThat(m.headsKv()).isEqualTo(4);
        assertThat(m.vocabSize()).isEqualTo(512);
        assertThat(m.hasChatTemplate()).isFalse();
        assertThat(m.tensorCount()).isEqualTo(48);
        assertThat(m.quantization()).isEqualTo("F32");
        assertThat(m.parameterCount()).isEqualTo(292_800);
        assertThat(m.parameterCountText()).isEqualTo("292.8K");
        assertThat(m.fileSize()).isEqualTo(1_185_376);
        assertThat(m.ggufVersion()).isEqualTo(3);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            "ggml-vocab-llama-spm.gguf, llama, 32000, false",
            "ggml-vocab-phi-3.gguf, phi3, 32064, true",
            "ggml-vocab-gpt-2.gguf, gpt2, 50257, false"})
    void readsLlamaCppsVocabFiles(String file, String arch, int vocab, boolean template) {
        Path f = stories().resolveSibling("vocab").resolve(file);
        ModelMetadata m = ModelMetadata.read(f);
        assertThat(m.architecture()).isEqualTo(arch);
        assertThat(m.vocabSize()).isEqualTo(vocab);
        assertThat(m.hasChatTemplate()).isEqualTo(template);
        assertThat(m.tensorCount()).isZero();
        GgufFile g = GgufReader.read(f);
        assertThat(g.string("tokenizer.ggml.model")).isIn("llama", "gpt2");
        assertThat(g.dataOffset() - 32).isLessThan(g.fileSize()); // no tensors: the aligned end may pass the last byte
    }

    @Test
    void missingFile() {
        assertThatThrownBy(() -> ModelMetadata.read(Path.of("/nonexistent/model.gguf")))
                .isInstanceOf(InvalidModelException.class).hasMessageStartingWith("model file not found");
    }

    @Test
    void emptyFile(@TempDir Path dir) throws IOException {
        Path f = Files.createFile(dir.resolve("empty.gguf"));
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("model file is empty");
    }

    @Test
    void directory(@TempDir Path dir) {
        assertThatThrownBy(() -> ModelMetadata.read(dir)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("directory");
    }

    @Test
    void notGguf(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("notes.gguf"), "just some text, not a model");
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("not a GGUF file");
    }

    @Test
    void truncatedInTheHeader(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(stories());
        Path f = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(all, 300));
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("model file is truncated");
    }

    @Test
    void truncatedInTheWeights(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(stories());
        Path f = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(all, all.length - 1000));
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("model file is truncated: tensor");
    }

    @Test
    void unsupportedVersion(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(stories());
        all[4] = 9;
        Path f = Files.write(dir.resolve("v9.gguf"), all);
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("unsupported GGUF version 9");
    }

    @Test
    void absurdCounts(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(stories());
        Arrays.fill(all, 8, 16, (byte) 0x7f); // tensor count
        Path f = Files.write(dir.resolve("huge.gguf"), all);
        assertThatThrownBy(() -> ModelMetadata.read(f)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("impossible tensor count");
    }

    @Test
    void writerOutput_readsBack(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("w.gguf");
        new GgufWriter()
                .put("general.architecture", "llama")
                .put("general.name", "tiny")
                .put("general.file_type", 7)
                .put("llama.context_length", 2048)
                .put("llama.embedding_length", 64)
                .put("tokenizer.ggml.tokens", new String[]{"a", "b", "c"})
                .put("tokenizer.ggml.scores", new float[]{0f, 1f, 2f})
                .put("tokenizer.chat_template", "{{ messages }}")
                .tensor("token_embd.weight", GgmlType.Q8_0, new long[]{64, 3}, buf -> {
                    while (buf.hasRemaining()) {
                        buf.put((byte) 1);
                    }
                })
                .tensor("output_norm.weight", GgmlType.F32, new long[]{64}, buf -> {
                    while (buf.hasRemaining()) {
                        buf.putFloat(1f);
                    }
                })
                .write(f);
        GgufFile g = GgufReader.read(f);
        assertThat(g.version()).isEqualTo(3);
        assertThat(g.tensors()).extracting(GgufFile.TensorInfo::name).containsExactly("token_embd.weight", "output_norm.weight");
        assertThat(g.tensors().getFirst().byteSize()).isEqualTo(6 * 34);
        assertThat(g.dataOffset() % 32).isZero();
        assertThat(g.fileSize()).isEqualTo(g.dataOffset() + 224 + 256);
        ModelMetadata m = ModelMetadata.read(f);
        assertThat(m.quantization()).isEqualTo("Q8_0");
        assertThat(m.contextLength()).isEqualTo(2048);
        assertThat(m.vocabSize()).isEqualTo(3);
        assertThat(m.hasChatTemplate()).isTrue();
        assertThat(m.parameterCount()).isEqualTo(64 * 3 + 64);
    }
}

package io.corral.llamacpp;

import io.corral.api.InvalidModelException;
import io.corral.gguf.GgmlType;
import io.corral.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each kind of bad model file is refused with a one-line reason, and the JVM lives on. */
class BadModelFileTest {

    private static void refused(Path file, String reason) {
        assertThatThrownBy(() -> LlamaCppEngine.open(LlamaCppConfig.of(file)).close())
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining(reason)
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void missing() {
        refused(Path.of("/nonexistent/x.gguf"), "not found");
    }

    @Test
    void empty(@TempDir Path dir) throws Exception {
        refused(Files.createFile(dir.resolve("e.gguf")), "empty");
    }

    @Test
    void notGguf(@TempDir Path dir) throws Exception {
        refused(Files.writeString(dir.resolve("t.gguf"), "hello"), "not a GGUF file");
    }

    @Test
    void truncated(@TempDir Path dir) throws Exception {
        byte[] all = Files.readAllBytes(TestModels.stories());
        refused(Files.write(dir.resolve("c.gguf"), Arrays.copyOf(all, all.length / 2)), "truncated");
    }

    @Test
    void wellFormedButNotAModelLlamaCppKnows(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("odd.gguf");
        new GgufWriter().put("general.architecture", "no-such-arch")
                .tensor("w", GgmlType.F32, new long[]{4}, b -> { while (b.hasRemaining()) b.put((byte) 0); })
                .write(f);
        refused(f, "llama.cpp could not load");
    }
}

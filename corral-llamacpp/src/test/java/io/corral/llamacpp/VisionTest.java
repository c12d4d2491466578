package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ChatResult;
import io.corral.api.ContentPart;
import io.corral.api.InvalidRequestException;
import io.corral.api.Role;
import io.corral.api.SamplingParams;
import io.corral.gguf.GgmlType;
import io.corral.gguf.SyntheticModel;
import io.corral.gguf.TinyProjector;
import io.corral.spi.Capability;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Images in-process: the real text model (stories260K) with a projector of random weights written by our GGUF
 * writer, through llama.cpp's libmtmd. What the model says of an image is noise; the tests show that the image is
 * encoded, reaches the model in its place (its tokens counted, the answer changed by it) and that bad input is a
 * clear error.
 */
class VisionTest {

    @TempDir
    static Path dir;
    static LlamaCppEngine engine;

    @BeforeAll
    static void open() throws IOException {
        Path projector = TinyProjector.write(dir.resolve("tiny.mmproj"), 64);
        engine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withThreads(1).withContextSize(256)
                .withMmproj(projector));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static String png(long seed, int width, int height) throws IOException {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(TinyProjector.png(seed, width, height));
    }

    /** A PNG whose header claims {@code width x height} pixels, with no picture after it (a decompression bomb's start). */
    static byte[] claiming(int width, int height) {
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17).put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        return java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4).put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})
                .putInt(13).put(ihdr.array()).putInt((int) crc.getValue()).array();
    }

    static ChatResult ask(String imageUrl, String text) {
        ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.image(imageUrl), ContentPart.text(text)), null, null);
        return engine.chat(ChatRequest.builder().message(m).sampling(greedy(12)).build());
    }

    @Test
    void theModelIsMarkedVisionCapable() {
        assertThat(engine.vision()).isTrue();
        assertThat(engine.capabilities()).contains(Capability.VISION);
        assertThat(engine.models().getFirst().capabilities()).contains(Capability.VISION);
        assertThat(engine.models().getFirst().metadata()).containsKey("projector");
    }

    @Test
    void anImage_takesItsTokensInThePrompt_andAnAnswerComesBack() throws IOException {
        ChatResult withImage = ask(png(1, 40, 24), "Once upon a time");
        ChatResult textOnly = engine.chat(ChatRequest.builder().user("Once upon a time").sampling(greedy(12)).build());
        assertThat(withImage.text()).isNotBlank();
        assertThat(withImage.usage().completionTokens()).isPositive();
        assertThat(withImage.usage().promptTokens() - textOnly.usage().promptTokens()).isEqualTo(TinyProjector.TOKENS);
    }

    @Test
    void theAnswerDependsOnTheImage_andTheSameImageGivesTheSameAnswer() throws IOException {
        String a = png(2, 32, 32);
        String b = png(3, 32, 32);
        ChatResult first = ask(a, "Tell me a story.");
        ChatResult other = ask(b, "Tell me a story.");
        ChatResult again = ask(a, "Tell me a story.");
        assertThat(other.text()).isNotEqualTo(first.text());
        assertThat(again.text()).isEqualTo(first.text()); // a cached prefix never stands in for an image
    }

    @Test
    void twoImagesInOneMessage_bothCount() throws IOException {
        ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.image(png(4, 16, 16)),
                ContentPart.image(png(5, 64, 8)), ContentPart.text("Once upon a time")), null, null);
        ChatResult r = engine.chat(ChatRequest.builder().message(m).sampling(greedy(4)).build());
        ChatResult textOnly = engine.chat(ChatRequest.builder().user("Once upon a time").sampling(greedy(4)).build());
        assertThat(r.usage().promptTokens() - textOnly.usage().promptTokens()).isEqualTo(2 * TinyProjector.TOKENS);
    }

    @Test
    void badImages_areClearErrors() throws IOException {
        assertThatThrownBy(() -> ask("data:image/png;base64,bm90IGFuIGltYWdl", "hi"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("messages[0].content[0].image_url")
                .hasMessageContaining("not an image");
        assertThatThrownBy(() -> ask("data:image/png;base64,***", "hi"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("base64");
        assertThatThrownBy(() -> ask("data:image/png;base64," + Base64.getEncoder().encodeToString(claiming(100_000, 100_000)), "hi"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("100000x100000 pixels, over");
        assertThatThrownBy(() -> ask("file:///etc/passwd", "hi"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("data: or http(s)");
        assertThatThrownBy(() -> ask(png(6, 8, 8), "a marker of my own: " + io.corral.llamacpp.ffi.NativeVision.MARKER))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("2 image places for 1 images");
    }

    @Test
    void aPromptThatEndsWithAnImage_isAnsweredFromTheImagesLastSlot() throws IOException {
        // a base model's prompt is the message itself: the image is its last part
        ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.text("Once upon a time"), ContentPart.image(png(7, 8, 8))), null, null);
        ChatResult r = engine.chat(ChatRequest.builder().message(m).sampling(greedy(6)).build());
        assertThat(r.usage().completionTokens()).isEqualTo(6);
        assertThat(r.text()).isNotBlank();
        ChatMessage other = new ChatMessage(Role.USER, List.of(ContentPart.text("Once upon a time"), ContentPart.image(png(8, 8, 8))), null, null);
        assertThat(engine.chat(ChatRequest.builder().message(other).sampling(greedy(6)).build()).text()).isNotEqualTo(r.text());
    }

    @Test
    void aTextModelAndAProjector_bothOfOurWriting_answerAnImage() throws IOException {
        Path model = SyntheticModel.write(dir.resolve("tiny-llama.gguf"), SyntheticModel.TINY, GgmlType.F32);
        Path projector = TinyProjector.write(dir.resolve("tiny-llama.mmproj.gguf"), SyntheticModel.TINY.embd());
        try (LlamaCppEngine e = LlamaCppEngine.open(LlamaCppConfig.of(model).withThreads(1).withContextSize(128))) {
            assertThat(e.models().getFirst().metadata()).containsEntry("projector", projector.toString());
            SamplingParams sampling = SamplingParams.builder().temperature(0).maxTokens(5).build();
            ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.image(png(9, 20, 20)), ContentPart.text("hi")), null, null);
            ChatResult r = e.chat(ChatRequest.builder().message(m).sampling(sampling).build());
            ChatResult text = e.chat(ChatRequest.builder().user("hi").sampling(sampling).build());
            assertThat(r.usage().completionTokens()).isPositive();
            assertThat(r.usage().promptTokens() - text.usage().promptTokens()).isEqualTo(TinyProjector.TOKENS);
        }
    }

    @Test
    void aSession_takesAnImage_andGoesOnFromItsCache() throws IOException {
        String[] answers = new String[2];
        for (int i = 0; i < 2; i++) {
            try (LlamaSession s = engine.openSession(null, greedy(8))) {
                ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.image(png(20 + i, 32, 32)),
                        ContentPart.text("Tell me a story.")), null, null);
                ChatResult first;
                try (var stream = s.stream(m)) {
                    first = stream.result();
                }
                ChatResult next = s.send("And then?");
                assertThat(first.usage().promptTokens()).isGreaterThan(TinyProjector.TOKENS);
                // the image's cells stay in the session's cache: the next turn reads only its own text
                assertThat(next.usage().cachedTokens()).isGreaterThanOrEqualTo(first.usage().promptTokens());
                assertThat(s.history()).hasSize(4);
                answers[i] = first.text() + "|" + next.text();
            }
        }
        assertThat(answers[0]).isNotEqualTo(answers[1]); // each session saw its own image
    }

    @Test
    void anImageLargerThanABatch_isRead_besideAnotherStream() throws IOException {
        // batches of 8: the 16 image rows are read a batch a step, beside the stream already running (and 8 sequences,
        // not 12: llama.cpp aborted on more sequences than a batch has tokens)
        try (LlamaCppEngine small = LlamaCppEngine.open(new LlamaCppConfig(TestModels.stories(), null, 256, 1, 8, 2, null,
                dir.resolve("tiny.mmproj")))) {
            var running = small.stream(io.corral.api.CompletionRequest.of(TestModels.PROMPT, greedy(40)));
            ChatMessage m = new ChatMessage(Role.USER, List.of(ContentPart.image(png(30, 32, 32)), ContentPart.text("Tell me a story.")), null, null);
            ChatResult r = small.chat(ChatRequest.builder().message(m).sampling(greedy(6)).build());
            ChatResult text = small.chat(ChatRequest.builder().user("Tell me a story.").sampling(greedy(6)).build());
            assertThat(r.usage().completionTokens()).isEqualTo(6);
            assertThat(r.usage().promptTokens() - text.usage().promptTokens()).isEqualTo(TinyProjector.TOKENS);
            assertThat(running.result().usage().completionTokens()).isEqualTo(40);
            assertThat(running.result().text()).isEqualTo(TestModels.REFERENCE.substring(0, running.result().text().length()));
        }
    }

    @Test
    void aProjectorBesideTheModel_isFound() throws IOException {
        Path model = Files.copy(TestModels.stories(), dir.resolve("story.gguf"));
        TinyProjector.write(dir.resolve("story.mmproj.gguf"), 64);
        try (LlamaCppEngine e = LlamaCppEngine.open(LlamaCppConfig.of(model).withThreads(1).withContextSize(128))) {
            assertThat(e.vision()).isTrue();
            assertThat(e.capabilities()).contains(Capability.VISION);
        }
    }

    @Test
    void aProjectorOfTheWrongWidth_isRefusedWhenTheModelLoads() throws IOException {
        Path wrong = TinyProjector.write(dir.resolve("wide.mmproj"), 128);
        assertThatThrownBy(() -> LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withThreads(1)
                .withContextSize(128).withMmproj(wrong)).close())
                .isInstanceOf(io.corral.api.EngineException.class).hasMessageContaining("projector");
    }
}

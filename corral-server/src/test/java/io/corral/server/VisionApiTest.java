package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.sun.net.httpserver.HttpServer;
import io.corral.api.UrlPolicy;
import io.corral.gguf.TinyProjector;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Images through the OpenAI API to the in-process engine (stories260K with a projector of random weights), with the
 * official SDK: data URLs, http URLs the server's URL policy allows (fetched, never through a redirect), and the
 * model listed as vision-capable.
 */
class VisionApiTest {

    @TempDir
    static Path dir;
    static CorralServer server;
    static OpenAIClient openai;
    static HttpServer images;
    static byte[] png;
    static io.corral.storage.LocalFilesProvider files;

    @BeforeAll
    static void start() throws IOException {
        Path projector = TinyProjector.write(dir.resolve("tiny.mmproj"), 64);
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1)
                .withContextSize(256).withMmproj(projector));
        // the picture server stands on loopback: the policy names 127.0.0.1, so only that host's URLs are fetched
        UrlPolicy urls = new UrlPolicy(false, Set.of("127.0.0.1"));
        files = new io.corral.storage.LocalFilesProvider(dir.resolve("files"), java.time.Clock.systemUTC());
        io.corral.agents.ResponsesService responses = new io.corral.agents.ResponsesService(
                m -> m.equals("stories260K") ? engine : null, null, null, new io.corral.spi.MemoryKeyValueStore(),
                java.time.Clock.systemUTC(), urls, null, files);
        server = CorralServer.builder(ServerConfig.defaults().withPort(0)).providers(List.of(engine)).files(files)
                .responses(responses).urls(urls).start();
        openai = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("unused").maxRetries(0).build();
        png = png(11);
        images = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        images.createContext("/cat.png", x -> {
            x.getResponseHeaders().add("Content-Type", "image/png");
            x.sendResponseHeaders(200, png.length);
            x.getResponseBody().write(png);
            x.close();
        });
        images.createContext("/moved", x -> {
            x.getResponseHeaders().add("Location", "/cat.png");
            x.sendResponseHeaders(302, -1);
            x.close();
        });
        images.start();
    }

    @AfterAll
    static void stop() {
        images.stop(0);
        server.close();
        files.close();
    }

    static byte[] png(long seed) throws IOException {
        return TinyProjector.png(seed, 32, 32);
    }

    static ChatCompletion ask(String imageUrl) {
        return openai.chat().completions().create(ChatCompletionCreateParams.builder().model("stories260K")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(imageUrl).build()).build()),
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("Tell me a story.").build())))
                .temperature(0.0).maxCompletionTokens(12).build());
    }

    static String dataUrl(byte[] bytes) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes);
    }

    @Test
    void aDataUrlImage_reachesTheModel_andAnAnswerComesBack() throws IOException {
        ChatCompletion c = ask(dataUrl(png));
        ChatCompletion text = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("stories260K")
                .addUserMessage("Tell me a story.").temperature(0.0).maxCompletionTokens(12).build());
        assertThat(c.choices().getFirst().message().content()).hasValueSatisfying(s -> assertThat(s).isNotBlank());
        assertThat(c.usage().orElseThrow().promptTokens() - text.usage().orElseThrow().promptTokens())
                .isEqualTo(TinyProjector.TOKENS);
        assertThat(ask(dataUrl(png(12))).choices().getFirst().message().content())
                .isNotEqualTo(c.choices().getFirst().message().content());
    }

    static String upload(String name, byte[] bytes) {
        return openai.files().create(com.openai.models.files.FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<java.io.InputStream>builder().value(new java.io.ByteArrayInputStream(bytes))
                        .filename(name).build())
                .purpose(com.openai.models.files.FilePurpose.VISION).build()).id();
    }

    static com.openai.models.responses.Response respond(com.openai.models.responses.ResponseInputImage image) {
        return openai.responses().create(com.openai.models.responses.ResponseCreateParams.builder().model("stories260K")
                .inputOfResponse(List.of(com.openai.models.responses.ResponseInputItem.ofMessage(
                        com.openai.models.responses.ResponseInputItem.Message.builder()
                                .role(com.openai.models.responses.ResponseInputItem.Message.Role.USER)
                                .addContent(image).addInputTextContent("Tell me a story.").build())))
                .temperature(0.0).maxOutputTokens(12L).store(false).build());
    }

    /** An image uploaded to the Files API and named by its file_id in a Responses request answers as its data URL does. */
    @Test
    void anUploadedImage_namedByFileId_reachesTheModel_throughTheResponsesApi() throws IOException {
        var byFile = respond(com.openai.models.responses.ResponseInputImage.builder().fileId(upload("cat.png", png))
                .detail(com.openai.models.responses.ResponseInputImage.Detail.AUTO).build());
        var byUrl = respond(com.openai.models.responses.ResponseInputImage.builder().imageUrl(dataUrl(png))
                .detail(com.openai.models.responses.ResponseInputImage.Detail.AUTO).build());
        var other = respond(com.openai.models.responses.ResponseInputImage.builder().fileId(upload("dog.png", png(12)))
                .detail(com.openai.models.responses.ResponseInputImage.Detail.AUTO).build());
        assertThat(ResponsesApiTest.text(byFile)).isNotBlank().isEqualTo(ResponsesApiTest.text(byUrl)).isNotEqualTo(ResponsesApiTest.text(other));
        assertThat(byFile.usage().orElseThrow().inputTokens()).isEqualTo(byUrl.usage().orElseThrow().inputTokens());
    }

    @Test
    void aFileIdThatIsNoImage_orNoFile_isA400_namingIt() {
        String text = upload("notes.txt", "not a picture".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (String id : List.of(text, "file-missing")) {
            assertThatThrownBy(() -> respond(com.openai.models.responses.ResponseInputImage.builder().fileId(id)
                    .detail(com.openai.models.responses.ResponseInputImage.Detail.AUTO).build()))
                    .isInstanceOf(BadRequestException.class).hasMessageContaining(id)
                    .satisfies(e -> assertThat(((BadRequestException) e).param()).hasValue("input[0].content[0].file_id"));
        }
    }

    @Test
    void theModel_isListedAsSeeingImages() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models"))
                .build(), HttpResponse.BodyHandlers.ofString());
        JsonNode model = new ObjectMapper().readTree(r.body()).at("/data/0");
        assertThat(model.path("id").asText()).isEqualTo("stories260K");
        assertThat(model.path("capabilities").toString()).contains("\"vision\"");
    }

    @Test
    void anHttpImage_onAnAllowedHost_isFetched_asTheSameImage() {
        String url = "http://127.0.0.1:" + images.getAddress().getPort() + "/cat.png";
        assertThat(ask(url).choices().getFirst().message().content())
                .isEqualTo(ask(dataUrl(png)).choices().getFirst().message().content());
    }

    @Test
    void llamaStacksChatCompletion_takesImageItems_andListsOfText() throws Exception {
        String image = Base64.getEncoder().encodeToString(png);
        JsonNode withImage = legacy("[{\"type\":\"image\",\"image\":{\"data\":\"" + image + "\"}},"
                + "{\"type\":\"text\",\"text\":\"Tell me a story.\"}]");
        JsonNode viaUri = legacy("[{\"type\":\"image\",\"image\":{\"url\":{\"uri\":\"" + dataUrl(png) + "\"}}},"
                + "{\"type\":\"text\",\"text\":\"Tell me a story.\"}]");
        // the same image, in both of Llama Stack's forms, gives the OpenAI route's answer
        String openai = ask(dataUrl(png)).choices().getFirst().message().content().orElseThrow();
        assertThat(withImage.at("/completion_message/content").asText()).isEqualTo(openai);
        assertThat(viaUri.at("/completion_message/content").asText()).isEqualTo(openai);
        // a list of text items is their text, not the list's JSON
        JsonNode texts = legacy("[{\"type\":\"text\",\"text\":\"Tell me \"},{\"type\":\"text\",\"text\":\"a story.\"}]");
        JsonNode plain = legacy("\"Tell me a story.\"");
        assertThat(texts.at("/completion_message/content").asText()).isEqualTo(plain.at("/completion_message/content").asText());
        HttpResponse<String> bad = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url()
                + "/v1/inference/chat-completion")).POST(HttpRequest.BodyPublishers.ofString("{\"model_id\":\"stories260K\","
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("messages[0].content[0]").contains("unsupported content item type");
    }

    static JsonNode legacy(String content) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url()
                        + "/v1/inference/chat-completion")).POST(HttpRequest.BodyPublishers.ofString("{\"model_id\":\"stories260K\","
                        + "\"messages\":[{\"role\":\"user\",\"content\":" + content + "}],"
                        + "\"sampling_params\":{\"strategy\":{\"type\":\"greedy\"},\"max_tokens\":12}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new ObjectMapper().readTree(r.body());
    }

    @Test
    void aPrivateHost_orARedirect_isA400() {
        int port = images.getAddress().getPort();
        assertThatThrownBy(() -> ask("http://localhost:" + port + "/cat.png"))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("private address");
        assertThatThrownBy(() -> ask("http://127.0.0.1:" + port + "/moved"))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("redirect");
    }
}

package io.corral.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileListParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import io.corral.storage.LocalFilesProvider;
import io.corral.testing.ScriptedProvider;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** OpenAI's Files API, through the official SDK, over files on the local disk. */
class FilesApiTest {

    @TempDir
    Path dir;
    final TestClock clock = new TestClock(Instant.parse("2026-11-27T12:00:00Z"));
    LocalFilesProvider files;
    CorralServer server;
    OpenAIClient openai;

    @BeforeEach
    void start() {
        files = new LocalFilesProvider(dir.resolve("files"), clock);
        server = CorralServer.builder(ServerConfig.defaults().withPort(0).withLimits(64 * 1024, 32))
                .providers(List.of(ScriptedProvider.chat("p", "m"))).files(files).start();
        openai = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("none").maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        server.close();
        files.close();
    }

    FileObject upload(String name, String text, FilePurpose purpose) {
        return openai.files().create(FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<java.io.InputStream>builder()
                        .value(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).filename(name).build())
                .purpose(purpose).build());
    }

    @Test
    void uploadListRetrieveReadDelete_withTheOfficialSdk() throws Exception {
        FileObject f = upload("notes.md", "# Cats\nThe cat sat on the mat.", FilePurpose.ASSISTANTS);
        assertThat(f.id()).startsWith("file-");
        assertThat(f.filename()).isEqualTo("notes.md");
        assertThat(f.bytes()).isEqualTo(30);
        assertThat(f.createdAt()).isEqualTo(clock.instant().getEpochSecond());
        assertThat(openai.files().retrieve(f.id()).filename()).isEqualTo("notes.md");
        try (HttpResponse content = openai.files().content(f.id())) {
            assertThat(new String(content.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("# Cats\nThe cat sat on the mat.");
        }
        assertThat(openai.files().list().data()).extracting(FileObject::id).containsExactly(f.id());
        assertThat(openai.files().delete(f.id()).deleted()).isTrue();
        assertThatThrownBy(() -> openai.files().retrieve(f.id())).isInstanceOf(NotFoundException.class);
        assertThat(openai.files().list().data()).isEmpty();
    }

    @Test
    void theListPagesByCursor_newestFirst_andFiltersByPurpose() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(upload("f" + i + ".txt", "text " + i, i == 2 ? FilePurpose.BATCH : FilePurpose.ASSISTANTS).id());
            clock.advance(Duration.ofSeconds(1));
        }
        List<String> seen = new ArrayList<>();
        openai.files().list(FileListParams.builder().limit(2).build()).autoPager().forEach(f -> seen.add(f.id()));
        assertThat(seen).containsExactly(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0));
        var asc = openai.files().list(FileListParams.builder().order(FileListParams.Order.ASC).purpose("batch").build());
        assertThat(asc.data()).extracting(FileObject::id).containsExactly(ids.get(2));
    }

    @Test
    void badUploads_are4xx_namingWhatIsWrong() throws Exception {
        assertThatThrownBy(() -> upload("a.txt", "x", FilePurpose.of("nonsense"))).isInstanceOf(BadRequestException.class)
                .hasMessageContaining("purpose");
        HttpClient http = HttpClient.newHttpClient();
        var notMultipart = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/files"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(notMultipart.statusCode()).isEqualTo(400);
        String big = "x".repeat(70 * 1024);
        var tooLarge = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofString(
                        "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--b\r\nContent-Disposition: form-data; "
                                + "name=\"file\"; filename=\"big.txt\"\r\n\r\n" + big + "\r\n--b--\r\n")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(openai.files().list().data()).isEmpty(); // nothing half stored
        var unknown = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/files/file-nope/content")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
    }

    @Test
    void aFile_isSeenOnlyWithTheKeyThatUploadedIt() {
        try (CorralServer keyed = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of("sk-alice", "sk-bob")))
                .providers(List.of(ScriptedProvider.chat("p", "m"))).files(files).start()) {
            OpenAIClient alice = OpenAIOkHttpClient.builder().baseUrl(keyed.url() + "/v1").apiKey("sk-alice").maxRetries(0).build();
            OpenAIClient bob = OpenAIOkHttpClient.builder().baseUrl(keyed.url() + "/v1").apiKey("sk-bob").maxRetries(0).build();
            FileObject f = alice.files().create(FileCreateParams.builder()
                    .file(com.openai.core.MultipartField.<java.io.InputStream>builder()
                            .value(new java.io.ByteArrayInputStream("secret plans".getBytes(StandardCharsets.UTF_8))).filename("plans.txt").build())
                    .purpose(FilePurpose.ASSISTANTS).build());
            assertThat(bob.files().list().data()).isEmpty();
            assertThatThrownBy(() -> bob.files().retrieve(f.id())).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> bob.files().delete(f.id())).isInstanceOf(NotFoundException.class);
            assertThat(alice.files().list().data()).extracting(FileObject::id).containsExactly(f.id());
            assertThat(openai.files().list().data()).isEmpty(); // the keyless server beside it shares only keyless files
        }
    }

    @Test
    void expiresAfter_isKept_andAFileIsGoneOnceItPasses() {
        FileObject f = openai.files().create(FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<java.io.InputStream>builder()
                        .value(new java.io.ByteArrayInputStream("brief".getBytes(StandardCharsets.UTF_8))).filename("brief.txt").build())
                .purpose(FilePurpose.ASSISTANTS)
                .expiresAfter(FileCreateParams.ExpiresAfter.builder().seconds(3600).build()).build());
        assertThat(f.expiresAt()).contains(f.createdAt() + 3600);
        clock.advance(Duration.ofSeconds(3601));
        assertThatThrownBy(() -> openai.files().retrieve(f.id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> openai.files().create(FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<java.io.InputStream>builder()
                        .value(new java.io.ByteArrayInputStream("x".getBytes(StandardCharsets.UTF_8))).filename("x.txt").build())
                .purpose(FilePurpose.ASSISTANTS)
                .expiresAfter(FileCreateParams.ExpiresAfter.builder().seconds(60).build()).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("expires_after");
    }
}

package io.corral.server;

import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.files.FileListParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import com.openai.models.uploads.Upload;
import com.openai.models.uploads.UploadCompleteParams;
import com.openai.models.uploads.UploadCreateParams;
import com.openai.models.uploads.parts.PartCreateParams;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** OpenAI's Uploads API through the official SDK: a file sent in parts, completed in order, per key. */
class UploadsApiTest {

    @TempDir
    Path dir;

    @Test
    void aFileSentInParts_becomesOneFile_inThePartsOrder_checkedByItsSizeAndMd5() throws Exception {
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0)
                             .withApiKeys(List.of(StoredCompletionsTest.KEY_A, StoredCompletionsTest.KEY_B)))
                     .providers(List.of(ScriptedProvider.chat("p", "m"))).files(files).state(kv).start()) {
            OpenAIClient a = StoredCompletionsTest.client(server, StoredCompletionsTest.KEY_A);
            OpenAIClient b = StoredCompletionsTest.client(server, StoredCompletionsTest.KEY_B);
            byte[] first = "The first half, ".getBytes(StandardCharsets.UTF_8), second = "and the second.".getBytes(StandardCharsets.UTF_8);
            Upload u = a.uploads().create(UploadCreateParams.builder().bytes(first.length + second.length).filename("whole.txt")
                    .mimeType("text/plain").purpose(FilePurpose.ASSISTANTS).build());
            assertThat(u.status()).isEqualTo(Upload.Status.PENDING);
            String p2 = a.uploads().parts().create(PartCreateParams.builder().uploadId(u.id()).data(second).build()).id();
            String p1 = a.uploads().parts().create(PartCreateParams.builder().uploadId(u.id()).data(first).build()).id();
            assertThat(a.files().list().data()).as("parts are not listed as files").isEmpty();
            assertThatThrownBy(() -> b.uploads().complete(UploadCompleteParams.builder().uploadId(u.id()).partIds(List.of(p1, p2)).build()))
                    .as("another key's upload").isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> a.uploads().complete(UploadCompleteParams.builder().uploadId(u.id()).partIds(List.of(p1)).build()))
                    .as("a part left out: the size is wrong").isInstanceOf(BadRequestException.class).hasMessageContaining("bytes");
            assertThatThrownBy(() -> a.uploads().complete(UploadCompleteParams.builder().uploadId(u.id()).partIds(List.of(p1, p1, p2)).build()))
                    .isInstanceOf(BadRequestException.class).hasMessageContaining("more than once");
            assertThatThrownBy(() -> a.uploads().complete(UploadCompleteParams.builder().uploadId(u.id()).partIds(List.of(p1, p2)).md5("00").build()))
                    .isInstanceOf(BadRequestException.class).hasMessageContaining("MD5");
            String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest("The first half, and the second.".getBytes(StandardCharsets.UTF_8)));
            Upload done = a.uploads().complete(UploadCompleteParams.builder().uploadId(u.id()).partIds(List.of(p1, p2)).md5(md5).build());
            assertThat(done.status()).isEqualTo(Upload.Status.COMPLETED);
            FileObject file = done.file().orElseThrow();
            assertThat(file.filename()).isEqualTo("whole.txt");
            try (var r = a.files().content(file.id())) {
                assertThat(new String(r.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("The first half, and the second.");
            }
            assertThat(a.files().list().data()).extracting(FileObject::id).as("the file, and no part left").containsExactly(file.id());
            assertThat(a.files().list(FileListParams.builder().purpose("upload_part").build()).data()).isEmpty();
            assertThatThrownBy(() -> a.uploads().cancel(u.id())).as("a completed upload").hasMessageContaining("completed");

            // parts sent at once are all kept
            Upload many = a.uploads().create(UploadCreateParams.builder().bytes(8).filename("eight.txt").mimeType("text/plain")
                    .purpose(FilePurpose.ASSISTANTS).build());
            String[] ids = new String[8];
            try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 8; i++) {
                    int at = i;
                    pool.submit(() -> ids[at] = a.uploads().parts().create(PartCreateParams.builder().uploadId(many.id())
                            .data(new byte[]{(byte) ('0' + at)}).build()).id());
                }
            }
            FileObject eight = a.uploads().complete(UploadCompleteParams.builder().uploadId(many.id()).partIds(List.of(ids)).build()).file().orElseThrow();
            try (var r = a.files().content(eight.id())) {
                assertThat(new String(r.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("01234567");
            }

            Upload dropped = a.uploads().create(UploadCreateParams.builder().bytes(3).filename("x.txt").mimeType("text/plain")
                    .purpose(FilePurpose.ASSISTANTS).build());
            a.uploads().parts().create(PartCreateParams.builder().uploadId(dropped.id()).data("abc".getBytes(StandardCharsets.UTF_8)).build());
            assertThat(a.uploads().cancel(dropped.id()).status()).isEqualTo(Upload.Status.CANCELLED);
            assertThat(a.files().list(FileListParams.builder().purpose("upload_part").build()).data()).as("its part let go").isEmpty();
        }
    }
}

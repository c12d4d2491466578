package io.corral.server.files;

import io.corral.spi.MemoryKeyValueStore;
import io.corral.storage.LocalFilesProvider;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** An upload not completed within its hour expires, on an injected clock, and lets its parts go. */
class UploadExpiryTest {

    @Test
    void anUploadPastItsHour_isExpired_andItsPartsDeleted(@TempDir Path dir) {
        TestClock clock = new TestClock(Instant.parse("2026-11-29T12:00:00Z"));
        MemoryKeyValueStore kv = new MemoryKeyValueStore();
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), clock)) {
            String part = files.upload(null, "u.part", UploadsApi.PART_PURPOSE, null, new ByteArrayInputStream(new byte[]{1, 2, 3})).id();
            long now = clock.instant().getEpochSecond();
            kv.set("upload/-/upload_1", "{\"id\":\"upload_1\",\"object\":\"upload\",\"bytes\":6,\"created_at\":" + now + ",\"filename\":\"f\","
                    + "\"purpose\":\"assistants\",\"status\":\"pending\",\"expires_at\":" + (now + 3600) + ",\"file\":null,"
                    + "\"parts\":[{\"id\":\"part_1\",\"file_id\":\"" + part + "\",\"bytes\":3}]}");
            UploadsApi uploads = new UploadsApi(files, kv, clock);
            assertThat(uploads.get(null, "upload_1").path("status").asText()).isEqualTo("pending");
            assertThat(files.get(null, part)).isPresent();
            clock.advance(Duration.ofMinutes(61));
            assertThat(uploads.get(null, "upload_1").path("status").asText()).isEqualTo("expired");
            assertThat(files.get(null, part)).as("its part let go").isEmpty();
        }
    }
}

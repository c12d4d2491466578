package io.corral.server.batches;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.spi.MemoryKeyValueStore;
import io.corral.storage.LocalFilesProvider;
import io.corral.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A batch whose 24-hour window ends while it runs, on an injected clock: what had not started is expired. */
class BatchExpiryTest {

    @Test
    void theRequestsNotStartedWhenTheWindowEnds_areExpired_andTheBatchWithThem(@TempDir Path dir) throws Exception {
        TestClock clock = new TestClock(Instant.parse("2026-11-29T12:00:00Z"));
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger asked = new AtomicInteger();
        CountDownLatch fourAsked = new CountDownLatch(4);
        BatchesApi.Answerer answerer = BatchCancelAcrossNodesTest.gated(asked, fourAsked, gate);
        BatchesApi.Observer observer = BatchCancelAcrossNodesTest.quiet();
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), clock);
             BatchesApi batches = new BatchesApi(files, new MemoryKeyValueStore(), answerer, observer, clock)) {
            String input = files.upload(null, "in.jsonl", "batch", null, new ByteArrayInputStream(BatchCancelAcrossNodesTest.lines(10).getBytes(StandardCharsets.UTF_8))).id();
            String id = batches.create(null, input, "/v1/chat/completions", "24h", Map.of()).path("id").asText();
            fourAsked.await(); // the four answered at once have started; the fifth waits for one of them
            clock.advance(Duration.ofHours(25));
            gate.countDown();
            ObjectNode b = BatchCancelAcrossNodesTest.awaitStatus(batches, id, "expired");
            assertThat(b.path("expired_at").asLong()).isPositive();
            assertThat(b.path("request_counts").toString()).isEqualTo("{\"total\":10,\"completed\":4,\"failed\":6}");
            assertThat(asked.get()).as("none started after the window ended").isEqualTo(4);
            try (InputStream errors = files.content(null, b.path("error_file_id").asText()).orElseThrow()) {
                String text = new String(errors.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(text.lines()).hasSize(6).allSatisfy(l -> assertThat(l).contains("\"code\":\"batch_expired\""));
            }
        }
    }
}

package io.corral.server.batches;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.server.http.Json;
import io.corral.spi.MemoryKeyValueStore;
import io.corral.spi.Span;
import io.corral.storage.LocalFilesProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** Two nodes over one shared state store: a batch cancelled through the node that does not run it stops on the one that does. */
class BatchCancelAcrossNodesTest {

    static BatchesApi.Observer quiet() {
        return new BatchesApi.Observer() {
            @Override
            public Span start(String name, Map<String, String> attributes) {
                return Span.NOOP;
            }

            @Override
            public void finished(String endpoint, String model, int status, long promptTokens, long completionTokens) {
            }
        };
    }

    /** Answers that count themselves ({@code asked}, {@code started}) and wait for {@code gate}. */
    static BatchesApi.Answerer gated(java.util.concurrent.atomic.AtomicInteger asked, CountDownLatch started, CountDownLatch gate) {
        return new BatchesApi.Answerer() {
            @Override
            public Set<String> endpoints() {
                return Set.of("/v1/chat/completions");
            }

            @Override
            public JsonNode answer(String tenant, String endpoint, JsonNode body, String id) throws Exception {
                asked.incrementAndGet();
                started.countDown();
                gate.await();
                return Json.MAPPER.createObjectNode().put("id", "chatcmpl-" + id);
            }
        };
    }

    /** The batch once it has {@code status} (polled, bounded at 30 s: it runs in the background). */
    static ObjectNode awaitStatus(BatchesApi batches, String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        ObjectNode b = batches.get(null, id);
        while (!b.path("status").asText().equals(status) && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling a background job's status
            b = batches.get(null, id);
        }
        assertThat(b.path("status").asText()).as(b.toString()).isEqualTo(status);
        return b;
    }

    /** {@code n} valid chat lines. */
    static String lines(int n) {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < n; i++) {
            lines.append("{\"custom_id\":\"r").append(i).append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",")
                    .append("\"body\":{\"model\":\"m\",\"messages\":[]}}\n");
        }
        return lines.toString();
    }

    @Test
    void aCancelOnTheOtherNode_isSeenByTheNodeRunningTheBatch(@TempDir Path dir) throws Exception {
        MemoryKeyValueStore kv = MemoryKeyValueStore.shared(Clock.systemUTC());
        CountDownLatch gate = new CountDownLatch(1), fourAsked = new CountDownLatch(4);
        BatchesApi.Answerer gated = gated(new java.util.concurrent.atomic.AtomicInteger(), fourAsked, gate);
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             BatchesApi a = new BatchesApi(files, kv, gated, quiet(), Clock.systemUTC())) {
            String input = files.upload(null, "in.jsonl", "batch", null, new ByteArrayInputStream(lines(12).getBytes(StandardCharsets.UTF_8))).id();
            String id = a.create(null, input, "/v1/chat/completions", "24h", Map.of()).path("id").asText();
            fourAsked.await();
            try (BatchesApi b = new BatchesApi(files, kv, gated, quiet(), Clock.systemUTC())) {
                assertThat(b.cancel(null, id).path("status").asText()).as("node A holds it: B only asks").isEqualTo("cancelling");
            }
            gate.countDown();
            ObjectNode batch = awaitStatus(a, id, "cancelled");
            assertThat(batch.path("request_counts").path("completed").asInt()).as("the four started, no more").isEqualTo(4);
        }
    }
}

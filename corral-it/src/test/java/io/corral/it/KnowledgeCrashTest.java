package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing acknowledged is lost: a server ingesting a knowledge folder is killed with SIGKILL while files are in
 * progress; after a restart every file it had reported completed is still completed and searchable, the files
 * that were in progress finish, and the store holds each file once.
 */
class KnowledgeCrashTest {

    static final int FILES = 400;
    final HttpClient http = HttpClient.newHttpClient();

    Set<String> files(int port, String status) throws Exception {
        Set<String> ids = new HashSet<>();
        String after = null;
        do {
            JsonNode page = ServeProcess.get(http, port, "/v1/vector_stores/kb/files?limit=100&filter=" + status + (after == null ? "" : "&after=" + after));
            page.get("data").forEach(f -> ids.add(f.get("id").asText()));
            after = page.get("has_more").asBoolean() ? page.get("last_id").asText() : null;
        } while (after != null);
        return ids;
    }

    @Test
    void killedWhileIngesting_keepsEveryCompletedFile_andFinishesTheRest(@TempDir Path dir) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("knowledge"));
        StringBuilder filler = new StringBuilder();
        for (int w = 0; w < 25; w++) {
            filler.append(" boundary layer flow over a flat plate at moderate reynolds numbers");
        }
        for (int i = 0; i < FILES; i++) {
            Files.writeString(folder.resolve("doc" + i + ".txt"), "marker" + i + " report." + filler);
        }
        int port = ServeFlagsTest.freePort();
        Path config = Files.writeString(dir.resolve("run.yaml"), """
                server: {port: %d, health_interval: 0}
                providers:
                  inference:
                    - provider_id: st
                      provider_type: inline::sentence-transformers
                vector_stores:
                  stores:
                    - id: kb
                      folder: '%s'
                """.formatted(port, folder));
        Process first = ServeProcess.start(dir.resolve("cache"), dir.resolve("serve.log"), "--config", config.toString());
        Set<String> completed;
        try {
            ServeProcess.awaitUp(http, first, port, dir.resolve("serve.log"));
            JsonNode counts;
            do {
                Thread.sleep(10); // polling the store's progress
                counts = ServeProcess.get(http, port, "/v1/vector_stores/kb").get("file_counts");
            } while (counts.get("completed").asInt() < 20 && counts.get("in_progress").asInt() > 0);
            completed = files(port, "completed");
            assertThat(counts.get("in_progress").asInt()).as("the kill must come while files are in progress").isPositive();
        } finally {
            first.destroyForcibly(); // SIGKILL
            first.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(completed).hasSizeGreaterThanOrEqualTo(20);

        Process second = ServeProcess.start(dir.resolve("cache"), dir.resolve("serve.log"), "--config", config.toString());
        try {
            ServeProcess.awaitUp(http, second, port, dir.resolve("serve.log"));
            long deadline = System.nanoTime() + 180_000_000_000L;
            JsonNode counts;
            do {
                Thread.sleep(50); // polling the store's progress
                counts = ServeProcess.get(http, port, "/v1/vector_stores/kb").get("file_counts");
                assertThat(System.nanoTime()).as("ingestion resumes and finishes").isLessThan(deadline);
            } while (counts.get("in_progress").asInt() > 0);
            assertThat(counts.get("total").asInt()).isEqualTo(FILES);
            assertThat(counts.get("completed").asInt()).as(counts.toString()).isEqualTo(FILES);
            assertThat(files(port, "completed")).containsAll(completed);
            // each file is searchable, once
            for (int i = 0; i < FILES; i += 7) {
                JsonNode hits = ServeProcess.post(http, port, "/v1/vector_stores/kb/search",
                        "{\"query\": \"marker" + i + "\", \"search_mode\": \"keyword\", \"max_num_results\": 5}").get("data");
                assertThat(hits).as("marker" + i).hasSize(1);
                assertThat(hits.get(0).get("filename").asText()).isEqualTo("doc" + i + ".txt");
            }
        } finally {
            second.destroy();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }
}

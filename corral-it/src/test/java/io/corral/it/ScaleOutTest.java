package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.corral.opensearch.TestOpenSearch;
import io.corral.storage.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two {@code corral serve} nodes on one PostgreSQL (state), one OpenSearch (chunks) and one files folder behave as one:
 * a file, a vector store, a conversation and a response made through one node are usable through the other; the
 * first node killed with SIGKILL loses nothing it acknowledged, and the other keeps serving all of it, and takes over
 * the files the first was ingesting once its leases run out.
 */
class ScaleOutTest {

    /** The files A is given to ingest before it is killed: more than it ingests in the moment before. */
    static final int FILES = 300;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void twoNodes_shareEverything_andOneKilled_losesNothing(@TempDir Path dir) throws Exception {
        try (TestPostgres pg = TestPostgres.start(); TestOpenSearch os = TestOpenSearch.start()) {
            Path config = Files.writeString(dir.resolve("run.yaml"), """
                    server: {health_interval: 0}
                    providers:
                    %s  storage:
                        - provider_id: state
                          provider_type: remote::postgres
                          config: {host: 127.0.0.1, port: %d, db: postgres, user: corral}
                      vector_io:
                        - provider_id: os
                          provider_type: remote::opensearch
                          config: {url: '%s'}
                      files:
                        - provider_id: files
                          provider_type: inline::localfs
                          config: {storage_dir: '%s'}
                    """.formatted(ServeProcess.modelsSection(), pg.port, os.url, dir.resolve("files")));
            int a = ServeFlagsTest.freePort();
            int b = ServeFlagsTest.freePort();
            Process nodeA = ServeProcess.start(dir.resolve("a-cache"), dir.resolve("a.log"), "--config", config.toString(), "--port", Integer.toString(a));
            Process nodeB = ServeProcess.start(dir.resolve("b-cache"), dir.resolve("b.log"), "--config", config.toString(), "--port", Integer.toString(b));
            try {
                ServeProcess.awaitUp(http, nodeA, a, dir.resolve("a.log"));
                ServeProcess.awaitUp(http, nodeB, b, dir.resolve("b.log"));

                // a file uploaded through A is read through B
                String file = ServeProcess.upload(http, a, "quokkas.md", "Quokkas are small wallabies that live on Rottnest Island.");
                assertThat(ServeProcess.get(http, b, "/v1/files/" + file).path("filename").asText()).isEqualTo("quokkas.md");
                assertThat(ServeProcess.text(http, b, "/v1/files/" + file + "/content")).contains("Rottnest Island");

                // a store made through A, with that file, is searched through B once A has ingested it
                String store = ServeProcess.post(http, a, "/v1/vector_stores", "{\"name\":\"shared\",\"file_ids\":[\"" + file + "\"]}").path("id").asText();
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (ServeProcess.get(http, b, "/v1/vector_stores/" + store).at("/file_counts/completed").asInt() < 1) {
                    assertThat(System.nanoTime()).as("the file is ingested").isLessThan(deadline);
                    Thread.sleep(100); // polling the store's progress
                }
                JsonNode hits = ServeProcess.post(http, b, "/v1/vector_stores/" + store + "/search",
                        "{\"query\":\"Rottnest\",\"search_mode\":\"keyword\"}").path("data");
                assertThat(hits).hasSize(1);
                assertThat(hits.get(0).path("file_id").asText()).isEqualTo(file);

                // a conversation made through A, added to through B, read through A
                String conversation = ServeProcess.post(http, a, "/v1/conversations", "{\"metadata\":{\"topic\":\"quokkas\"}}").path("id").asText();
                ServeProcess.post(http, b, "/v1/conversations/" + conversation + "/items",
                        "{\"items\":[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"through B\"}]}]}");
                assertThat(ServeProcess.get(http, a, "/v1/conversations/" + conversation + "/items").path("data").toString()).contains("through B");

                // a response stored through A is read and continued through B
                JsonNode response = ServeProcess.post(http, a, "/v1/responses", "{\"model\":\"stories260K\",\"input\":\"Once upon a time\",\"max_output_tokens\":4}");
                String id = response.path("id").asText();
                assertThat(ServeProcess.get(http, b, "/v1/responses/" + id).path("status").asText()).isEqualTo(response.path("status").asText());
                JsonNode next = ServeProcess.post(http, b, "/v1/responses", "{\"model\":\"stories260K\",\"input\":\"and then\",\"previous_response_id\":\""
                        + id + "\",\"max_output_tokens\":4}");
                assertThat(ServeProcess.get(http, a, "/v1/responses/" + next.path("id").asText() + "/input_items").path("data").toString()).contains("and then");

                // A is given a store of many files to ingest, and dies while ingesting them
                StringBuilder ids = new StringBuilder();
                for (int i = 0; i < FILES; i++) {
                    ids.append(i == 0 ? "" : ",").append('"').append(ServeProcess.upload(http, a, "note-" + i + ".md",
                            "Note " + i + " is about the marsupial number " + i + (i == 7 ? ", the numbat." : "."))).append('"');
                }
                String many = ServeProcess.post(http, a, "/v1/vector_stores", "{\"name\":\"many\",\"file_ids\":[" + ids + "]}").path("id").asText();

                // A dies; B serves all that A acknowledged
                nodeA.destroyForcibly();
                nodeA.waitFor(30, TimeUnit.SECONDS);
                assertThat(ServeProcess.get(http, b, "/v1/vector_stores/" + many).at("/file_counts/in_progress").asInt())
                        .as("A died with files in progress").isPositive();
                assertThat(ServeProcess.get(http, b, "/v1/files/" + file).path("id").asText()).isEqualTo(file);
                assertThat(ServeProcess.post(http, b, "/v1/vector_stores/" + store + "/search", "{\"query\":\"wallabies\",\"search_mode\":\"hybrid\"}")
                        .path("data")).isNotEmpty();
                assertThat(ServeProcess.get(http, b, "/v1/conversations/" + conversation).at("/metadata/topic").asText()).isEqualTo("quokkas");
                assertThat(ServeProcess.get(http, b, "/v1/responses/" + id).path("id").asText()).isEqualTo(id);
                // B takes A's files over once A's leases run out, and ingests every one
                long takeover = System.nanoTime() + 120_000_000_000L;
                while (ServeProcess.get(http, b, "/v1/vector_stores/" + many).at("/file_counts/completed").asInt() < FILES) {
                    assertThat(System.nanoTime()).as("B ingests the files A left").isLessThan(takeover);
                    Thread.sleep(200); // polling the store's progress
                }
                assertThat(ServeProcess.get(http, b, "/v1/vector_stores/" + many).path("file_counts").path("failed").asInt()).isZero();
                assertThat(ServeProcess.post(http, b, "/v1/vector_stores/" + many + "/search", "{\"query\":\"numbat\",\"search_mode\":\"keyword\"}")
                        .path("data").get(0).path("content").get(0).path("text").asText()).contains("numbat");
                assertThat(ServeProcess.post(http, b, "/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"max_tokens\":4}").path("choices")).hasSize(1);
            } finally {
                for (Process p : List.of(nodeA, nodeB)) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }
}

package io.corral.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.storage.TestPostgres;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash safety of conversation writes, stored responses and ingestion: a real {@code corral serve} is killed with SIGKILL
 * at a random moment while a client writes (items added to a conversation, stored responses, files uploaded and added to
 * a vector store), again and again; after each restart every write the client saw acknowledged (a 200) is there, once,
 * the conversation's items are all whole, and every file added to the store is ingested (resumed where it was in
 * progress) and found by its own word. In SQLite and in PostgreSQL. The build kills 3 times per store; {@code -Dcorral.crash.kills=50} runs the long loop
 * ({@code scripts/crash-loop.sh}).
 */
class CrashLoopTest {

    static final int KILLS = Integer.getInteger("corral.crash.kills", 3);
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    final ObjectMapper json = new ObjectMapper();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgres"})
    void killedAgainAndAgain_losesNothingAcknowledged(String store, @TempDir Path dir) throws Exception {
        TestPostgres pg = store.equals("postgres") ? TestPostgres.start() : null;
        try {
            int port = ServeFlagsTest.freePort();
            String storage = pg == null
                    ? "provider_type: inline::sqlite\n      config: {db_path: '" + dir.resolve("state.db") + "'}"
                    : "provider_type: remote::postgres\n      config: {host: 127.0.0.1, port: " + pg.port + ", db: postgres, user: corral}";
            Path config = Files.writeString(dir.resolve("run.yaml"), """
                    server: {port: %d, health_interval: 0}
                    providers:
                    %s  storage:
                        - provider_id: state
                          %s
                    """.formatted(port, ServeProcess.modelsSection(), storage));
            Random random = new Random(42);
            List<String> items = new CopyOnWriteArrayList<>(); // acknowledged item texts
            List<String> responses = new CopyOnWriteArrayList<>(); // acknowledged responses: "id status"
            List<String> ingested = new CopyOnWriteArrayList<>(); // files acknowledged added to the store: "fileId word"
            String conversation = null;
            String vectorStore = null;
            int resumed = 0; // files found in progress at a restart
            for (int k = 0; k <= KILLS; k++) {
                Process serve = ServeProcess.start(dir.resolve("cache"), dir.resolve("serve.log"), "--config", config.toString());
                try {
                    ServeProcess.awaitUp(http, serve, port, dir.resolve("serve.log"));
                    if (conversation == null) {
                        conversation = ServeProcess.post(http, port, "/v1/conversations", "{}").path("id").asText();
                        vectorStore = ServeProcess.post(http, port, "/v1/vector_stores", "{\"name\":\"crash\"}").path("id").asText();
                    }
                    verify(port, conversation, items, responses, store + " after kill " + k);
                    resumed += verifyIngested(port, vectorStore, ingested, store + " after kill " + k);
                    if (k == KILLS) {
                        break;
                    }
                    String c = conversation;
                    String vs = vectorStore;
                    int round = k;
                    Thread writer = Thread.ofPlatform().start(() -> write(port, c, vs, round, items, responses, ingested));
                    Thread.sleep(300 + random.nextInt(1200)); // a random moment: what is killed is mid-write
                    serve.destroyForcibly(); // SIGKILL
                    writer.join(30_000);
                    assertThat(writer.isAlive()).isFalse();
                } finally {
                    serve.destroyForcibly();
                    serve.waitFor(30, TimeUnit.SECONDS);
                }
            }
            System.out.printf("CrashLoopTest %s: %d kills, %d items, %d responses and %d files for ingestion acknowledged, all there"
                    + " after every restart (%d files in progress at a restart, resumed)%n", store, KILLS, items.size(), responses.size(),
                    ingested.size(), resumed);
            assertThat(items).as("writes acknowledged over %d kills", KILLS).hasSizeGreaterThan(KILLS);
            assertThat(responses).isNotEmpty();
            assertThat(ingested).isNotEmpty();
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    /**
     * Writes until the server goes: an item, an item, a stored response, a file added to the store, ...; records what
     * was acknowledged.
     */
    private void write(int port, String conversation, String vectorStore, int round, List<String> items, List<String> responses,
                       List<String> ingested) {
        try {
            for (int i = 0; ; i++) {
                String text = "w" + round + "-" + i;
                if (i % 4 == 3) {
                    String word = "quokka" + round + "x" + i; // found by this word alone once ingested
                    String file = ServeProcess.upload(http, port, word + ".txt", "The note " + word + " says marsupials hop. " + "Padding words. ".repeat(40));
                    HttpResponse<String> r = ServeProcess.send(http, port, "/v1/vector_stores/" + vectorStore + "/files", "{\"file_id\":\"" + file + "\"}");
                    if (r.statusCode() == 200) {
                        ingested.add(file + " " + word);
                    }
                } else if (i % 4 != 2) {
                    HttpResponse<String> r = ServeProcess.send(http, port, "/v1/conversations/" + conversation + "/items",
                            "{\"items\":[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"" + text + "\"}]}]}");
                    if (r.statusCode() == 200) {
                        items.add(text);
                    }
                } else {
                    HttpResponse<String> r = ServeProcess.send(http, port, "/v1/responses",
                            "{\"model\":\"stories260K\",\"input\":\"" + text + "\",\"max_output_tokens\":2,\"store\":true}");
                    if (r.statusCode() == 200) {
                        JsonNode answer = json.readTree(r.body());
                        responses.add(answer.path("id").asText() + " " + answer.path("status").asText());
                    }
                }
            }
        } catch (Exception e) {
            // the server was killed: what was acknowledged is recorded
        }
    }

    /**
     * Every file acknowledged added to the store ends ingested (what was in progress resumes) and is found by its word;
     * returns how many files were in progress when the server came up.
     */
    private int verifyIngested(int port, String vectorStore, List<String> ingested, String when) throws Exception {
        int inProgress = ServeProcess.get(http, port, "/v1/vector_stores/" + vectorStore).at("/file_counts/in_progress").asInt();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (ServeProcess.get(http, port, "/v1/vector_stores/" + vectorStore).at("/file_counts/in_progress").asInt() > 0) {
            assertThat(System.nanoTime()).as("%s: the files in progress are ingested", when).isLessThan(deadline);
            Thread.sleep(100); // polling the store's progress
        }
        for (String acknowledged : ingested) { // "fileId word"
            String[] f = acknowledged.split(" ");
            assertThat(ServeProcess.get(http, port, "/v1/vector_stores/" + vectorStore + "/files/" + f[0]).path("status").asText())
                    .as("%s: %s", when, acknowledged).isEqualTo("completed");
            JsonNode hits = ServeProcess.post(http, port, "/v1/vector_stores/" + vectorStore + "/search",
                    "{\"query\":\"" + f[1] + "\",\"search_mode\":\"keyword\"}").path("data");
            assertThat(hits).as("%s: %s found", when, acknowledged).hasSize(1);
            assertThat(hits.get(0).path("file_id").asText()).isEqualTo(f[0]);
        }
        return inProgress;
    }

    private void verify(int port, String conversation, List<String> items, List<String> responses, String when) throws Exception {
        List<String> texts = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        String after = null;
        do {
            JsonNode page = ServeProcess.get(http, port, "/v1/conversations/" + conversation + "/items?limit=100&order=asc" + (after == null ? "" : "&after=" + after));
            for (JsonNode item : page.path("data")) {
                assertThat(ids.add(item.path("id").asText())).as("%s: item %s once", when, item.path("id")).isTrue();
                texts.add(item.at("/content/0/text").asText());
            }
            after = page.path("has_more").asBoolean() ? page.path("last_id").asText() : null;
        } while (after != null);
        assertThat(texts).as(when).containsAll(items).doesNotHaveDuplicates();
        for (String acknowledged : responses) { // "id status", as the client was answered
            String id = acknowledged.substring(0, acknowledged.indexOf(' '));
            JsonNode r = ServeProcess.get(http, port, "/v1/responses/" + id);
            assertThat(r.path("id").asText() + " " + r.path("status").asText()).as(when).isEqualTo(acknowledged);
        }
    }
}

package io.corral.server;

import com.openai.client.OpenAIClient;
import com.openai.core.MultipartField;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import io.corral.storage.LocalFilesProvider;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;

import static io.corral.testing.ScriptedProvider.answer;
import static io.corral.testing.ScriptedProvider.gated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** OpenAI's Batch API through the official SDK, over real files on disk and a SQLite state store. */
class BatchesApiTest {

    static final String KEY_A = "key-a-secret", KEY_B = "key-b-secret";

    @TempDir
    Path dir;

    CorralServer start(ScriptedProvider model, LocalFilesProvider files, SqlKeyValueStore kv) {
        return start(model, files, kv, io.corral.telemetry.Telemetry.off());
    }

    CorralServer start(ScriptedProvider model, LocalFilesProvider files, SqlKeyValueStore kv, io.corral.telemetry.Telemetry telemetry) {
        return CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of(KEY_A, KEY_B)))
                .providers(List.of(model)).files(files).state(kv).telemetry(telemetry).start();
    }

    static String upload(OpenAIClient client, String name, String jsonl, FilePurpose purpose) {
        return client.files().create(FileCreateParams.builder().file(MultipartField.<java.io.InputStream>builder()
                .value(new ByteArrayInputStream(jsonl.getBytes(StandardCharsets.UTF_8))).filename(name).build())
                .purpose(purpose).build()).id();
    }

    static String line(String id, String model, String text) {
        return "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"" + model
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}}\n";
    }

    static BatchCreateParams chat(String file) {
        return BatchCreateParams.builder().inputFileId(file).endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H).build();
    }

    /** Polls the batch (bounded) until it satisfies {@code done}: the batch runs in the background. */
    static Batch await(OpenAIClient client, String id, Predicate<Batch> done) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        Batch b = client.batches().retrieve(id);
        while (!done.test(b) && System.nanoTime() < deadline) {
            Thread.sleep(20); // polling a background job's status, as a client does
            b = client.batches().retrieve(id);
        }
        assertThat(done.test(b)).as("batch %s: %s", id, b).isTrue();
        return b;
    }

    static String content(OpenAIClient client, String fileId) throws Exception {
        try (var r = client.files().content(fileId)) {
            return new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aBatch_answersEachLine_intoAnOutputFile_andItsFailuresIntoAnErrorFile_forItsKeyOnly_eachLineTraced() throws Exception {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer("Hello ", "there."));
        try (io.corral.telemetry.Telemetry telemetry = io.corral.telemetry.Telemetry.start(io.corral.telemetry.TelemetryConfig
                     .fromEnvironment(Map.of(), dir.resolve("traces.db")).with(Map.of("sinks", "sqlite")));
             LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = start(model, files, kv, telemetry)) {
            OpenAIClient a = StoredCompletionsTest.client(server, KEY_A), b = StoredCompletionsTest.client(server, KEY_B);
            String input = upload(a, "in.jsonl", line("one", "m", "Hi") + "\n" + line("two", "nope", "Hi") + line("three", "m", "Hey"),
                    FilePurpose.BATCH);
            Batch created = a.batches().create(chat(input));
            assertThat(created.id()).startsWith("batch_");
            assertThat(created.status()).isEqualTo(Batch.Status.VALIDATING);
            Batch done = await(a, created.id(), x -> x.status().equals(Batch.Status.COMPLETED));
            assertThat(done.requestCounts().orElseThrow().total()).isEqualTo(3);
            assertThat(done.requestCounts().orElseThrow().completed()).isEqualTo(2);
            assertThat(done.requestCounts().orElseThrow().failed()).isEqualTo(1);
            assertThat(done.completedAt()).isPresent();
            String out = content(a, done.outputFileId().orElseThrow());
            assertThat(out.lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("\"status_code\":200").contains("Hello there."));
            assertThat(out.lines().map(l -> l.replaceAll(".*\"custom_id\":\"(\\w+)\".*", "$1")))
                    .as("matched by custom_id, in the order they finished").containsExactlyInAnyOrder("one", "three");
            String errors = content(a, done.errorFileId().orElseThrow());
            assertThat(errors).contains("\"custom_id\":\"two\"").contains("\"status_code\":404").contains("nope");
            assertThat(a.files().retrieve(done.outputFileId().orElseThrow()).purpose().asString()).isEqualTo("batch_output");
            // each line a trace of A's, found by the batch's id
            String query = "{\"attribute_filters\":[{\"key\":\"corral.batch_id\",\"op\":\"eq\",\"value\":\"" + created.id() + "\"}]}";
            telemetry.flush();
            // and counted on /metrics, beside the port's requests
            var scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(server.url() + "/metrics")).header("Authorization", "Bearer " + KEY_A).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(scrape).contains("corral_batch_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\",model=\"m\"} 2\n")
                    .contains("corral_batch_requests_total{endpoint=\"/v1/chat/completions\",status=\"404\",model=\"\"} 1\n");
            for (String[] who : List.of(new String[]{KEY_A, "3"}, new String[]{KEY_B, "0"})) {
                var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create(server.url() + "/v1/telemetry/traces")).POST(java.net.http.HttpRequest.BodyPublishers.ofString(query))
                        .header("Authorization", "Bearer " + who[0]).header("Content-Type", "application/json").build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("data").size())
                        .as("traces of the batch's lines seen with %s", who[0]).isEqualTo(Integer.parseInt(who[1]));
            }

            assertThat(a.batches().list().data()).extracting(Batch::id).containsExactly(created.id());
            assertThat(b.batches().list().data()).as("another key's").isEmpty();
            assertThatThrownBy(() -> b.batches().retrieve(created.id())).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> b.batches().create(chat(input))).as("A's file").isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> a.batches().cancel(created.id())).as("a finished batch").hasMessageContaining("completed");
            // an input file over OpenAI's 200 MB (put in place directly: the port's body limit is lower)
            var big = files.upload(io.corral.server.http.ApiKeys.tenantOf(KEY_A), "big.jsonl", "batch", null, new java.io.InputStream() {
                long left = (200L << 20) + 1;

                @Override
                public int read() {
                    return left-- > 0 ? ' ' : -1;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = (int) Math.min(len, left);
                    java.util.Arrays.fill(b, off, off + n, (byte) ' ');
                    left -= n;
                    return n;
                }
            });
            assertThatThrownBy(() -> a.batches().create(chat(big.id()))).isInstanceOf(BadRequestException.class).hasMessageContaining("200 MB");
            files.delete(io.corral.server.http.ApiKeys.tenantOf(KEY_A), big.id());
            String notBatch = upload(a, "x.jsonl", line("one", "m", "Hi"), FilePurpose.ASSISTANTS);
            assertThatThrownBy(() -> a.batches().create(chat(notBatch))).isInstanceOf(BadRequestException.class)
                    .hasMessageContaining("purpose");
        }
    }

    @Test
    void textCompletions_andEmbeddings_runAsBatchesToo() throws Exception {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer(" upon", " a time"));
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = start(model, files, kv)) {
            OpenAIClient a = StoredCompletionsTest.client(server, KEY_A);
            String input = upload(a, "in.jsonl", "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/completions\","
                    + "\"body\":{\"model\":\"m\",\"prompt\":\"Once\",\"echo\":true}}\n", FilePurpose.BATCH);
            Batch done = await(a, a.batches().create(BatchCreateParams.builder().inputFileId(input)
                    .endpoint(BatchCreateParams.Endpoint.V1_COMPLETIONS).completionWindow(BatchCreateParams.CompletionWindow._24H).build()).id(),
                    x -> x.status().equals(Batch.Status.COMPLETED));
            String out = content(a, done.outputFileId().orElseThrow());
            assertThat(out).contains("\"object\":\"text_completion\"").contains("Once upon a time").contains("\"id\":\"cmpl-");
            String texts = upload(a, "e.jsonl", "{\"custom_id\":\"e\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
                    + "\"body\":{\"model\":\"m\",\"input\":[\"abc\",\"de\"]}}\n", FilePurpose.BATCH);
            Batch embeddings = await(a, a.batches().create(BatchCreateParams.builder().inputFileId(texts)
                    .endpoint(BatchCreateParams.Endpoint.V1_EMBEDDINGS).completionWindow(BatchCreateParams.CompletionWindow._24H).build()).id(),
                    x -> x.status().equals(Batch.Status.COMPLETED));
            // the scripted model's vector of a text is its length and 1
            assertThat(content(a, embeddings.outputFileId().orElseThrow())).contains("\"custom_id\":\"e\"")
                    .contains("\"embedding\":[3.0,1.0]").contains("\"embedding\":[2.0,1.0]");
        }
    }

    @Test
    void aWrongLine_failsTheBatch_withEachErrorAndItsLine() throws Exception {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer("ok"));
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = start(model, files, kv)) {
            OpenAIClient a = StoredCompletionsTest.client(server, KEY_A);
            String input = upload(a, "in.jsonl", line("one", "m", "Hi") + "not json\n" + line("one", "m", "again")
                    + line("s", "m", "Hi").replace("\"model\"", "\"stream\":true,\"model\""), FilePurpose.BATCH);
            Batch failed = await(a, a.batches().create(chat(input)).id(), x -> x.status().equals(Batch.Status.FAILED));
            var errors = failed.errors().orElseThrow().data().orElseThrow();
            assertThat(errors).extracting(e -> e.code().orElseThrow() + "@" + e.line().orElseThrow())
                    .containsExactly("invalid_json_line@2", "duplicate_custom_id@3", "streaming_unsupported@4");
            assertThat(model.requests()).as("nothing was run").isEmpty();
        }
    }

    static String twelve() {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            many.append(line("r" + i, "m", "Hi " + i));
        }
        return many.toString();
    }

    /** Waits (bounded) until the provider has been asked {@code n} times: its calls wait on a gate the test holds. */
    static void awaitAsked(ScriptedProvider model, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (model.requests().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling the provider's record of calls
        }
        assertThat(model.requests()).hasSize(n);
    }

    @Test
    void cancelling_stopsBetweenLines_andWritesWhatWasAnswered() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        // the first four lines (those answered at once) wait on the gate; none after them has started
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(gated(gate, "a"), gated(gate, "b"), gated(gate, "c"),
                gated(gate, "d"), answer("late"));
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = start(model, files, kv)) {
            OpenAIClient a = StoredCompletionsTest.client(server, KEY_A);
            String id = a.batches().create(chat(upload(a, "in.jsonl", twelve(), FilePurpose.BATCH))).id();
            awaitAsked(model, 4);
            Batch cancelling = a.batches().cancel(id);
            assertThat(cancelling.status()).isEqualTo(Batch.Status.CANCELLING);
            gate.countDown();
            Batch cancelled = await(a, id, x -> x.status().equals(Batch.Status.CANCELLED));
            assertThat(cancelled.requestCounts().orElseThrow().total()).isEqualTo(12);
            assertThat(cancelled.requestCounts().orElseThrow().completed()).isEqualTo(4);
            assertThat(content(a, cancelled.outputFileId().orElseThrow()).lines()).hasSize(4);
            assertThat(model.requests()).as("no line started after the cancel").hasSize(4);
            assertThat(a.batches().cancel(id).status()).as("cancelling again changes nothing").isEqualTo(Batch.Status.CANCELLED);
        }
    }

    @Test
    void aBatchLeftUnfinishedByAStop_runsAgainFromItsFirstLine_atTheNextStart() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(gated(gate, "slow"), answer("quick"));
        try (LocalFilesProvider files = new LocalFilesProvider(dir.resolve("files"), Clock.systemUTC());
             SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC())) {
            String id;
            try (CorralServer server = start(model, files, kv)) {
                OpenAIClient a = StoredCompletionsTest.client(server, KEY_A);
                id = a.batches().create(chat(upload(a, "in.jsonl", twelve(), FilePurpose.BATCH))).id();
                awaitAsked(model, 12); // the first line waits; the other eleven were answered
            } finally {
                gate.countDown(); // the server stopped while its first line waited: that answer is dropped
            }
            ScriptedProvider again = ScriptedProvider.chat("p", "m").then(answer("again"));
            try (CorralServer server = start(again, files, kv)) {
                OpenAIClient a = StoredCompletionsTest.client(server, KEY_A);
                Batch done = await(a, id, x -> x.status().equals(Batch.Status.COMPLETED));
                assertThat(done.requestCounts().orElseThrow().completed()).isEqualTo(12);
                assertThat(again.requests()).as("run again from its first line").hasSize(12);
                String out = content(a, done.outputFileId().orElseThrow());
                assertThat(out.lines()).hasSize(12).allSatisfy(l -> assertThat(l).contains("again"));
            }
        }
    }
}

package io.corral.agents;

import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Background responses: queued at once, run apart, cancelled, and run again after a restart (or failed, with the reason). */
class BackgroundTest {

    /** Two nodes' shared state store, with an injected clock; node A's way to it can be cut ({@code nodeA.killed}). */
    static final class Shared {
        final io.corral.testing.TestClock clock = new io.corral.testing.TestClock(java.time.Instant.parse("2026-11-28T12:00:00Z"));
        final io.corral.spi.MemoryKeyValueStore database = io.corral.spi.MemoryKeyValueStore.shared(clock);
        final io.corral.testing.KillableKeyValueStore nodeA = new io.corral.testing.KillableKeyValueStore(database);

        /** Node A, whose model answers with {@code answer} (a gated one holds the run). */
        ResponsesService nodeA(ScriptedProvider.Step answer) {
            ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer);
            return new ResponsesService(m -> model, null, null, nodeA, clock);
        }

        /** Node B, straight on the store, whose model is {@code model}. */
        ResponsesService nodeB(ScriptedProvider model) {
            return new ResponsesService(m -> model, null, null, database, clock);
        }
    }

    @Test
    void aBackgroundResponse_returnsQueued_andIsFoundCompletedOnceItRan() {
        CountDownLatch go = new CountDownLatch(1);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(go, "Done", "."));
        ResponsesService s = new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC());
        Map<String, Object> queued = s.create("t", Map.of("model", "m", "input", "x", "background", true), null);
        String id = String.valueOf(queued.get("id"));
        assertThat(queued).containsEntry("status", "queued").containsEntry("background", true);
        assertThat(s.get("t", id).get("status")).isIn("queued", "in_progress");
        go.countDown();
        s.await(id, Duration.ofSeconds(30));
        Map<String, Object> done = s.get("t", id);
        assertThat(done.get("status")).isEqualTo("completed");
        assertThat(done.get("output").toString()).contains("Done.");
        assertThatThrownBy(() -> s.create("t", Map.of("model", "m", "input", "x", "background", true, "stream", true), null))
                .hasMessageContaining("not streamed");
        s.close();
    }

    @Test
    void cancel_stopsARunningBackgroundResponse() {
        CountDownLatch never = new CountDownLatch(1);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(never, "never", "sent"));
        ResponsesService s = new ResponsesService(m -> model, null, null, new io.corral.spi.MemoryKeyValueStore(), Clock.systemUTC());
        String id = String.valueOf(s.create("t", Map.of("model", "m", "input", "x", "background", true), null).get("id"));
        Map<String, Object> cancelled = s.cancel("t", id);
        assertThat(cancelled.get("status")).isEqualTo("cancelled");
        assertThat(s.get("t", id).get("status")).isEqualTo("cancelled");
        assertThat(s.get("t", id).get("output").toString()).doesNotContain("never"); // a run that never ends was stopped: cancel returned
        assertThatThrownBy(() -> s.cancel("t", "resp_nope")).isInstanceOf(io.corral.api.NotFoundException.class);
        s.close();
    }

    @Test
    void aResponseRunningWhenTheProcessDied_runsAgainUnderItsIdAtTheNextStart_andItsRequestIsDroppedOnceDone() {
        CountDownLatch never = new CountDownLatch(1);
        io.corral.spi.MemoryKeyValueStore disk = new io.corral.spi.MemoryKeyValueStore();
        io.corral.testing.KillableKeyValueStore process = new io.corral.testing.KillableKeyValueStore(disk);
        ScriptedProvider stuck = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(never, "lost"));
        ResponsesService before = new ResponsesService(m -> stuck, null, null, process, Clock.systemUTC());
        String id = String.valueOf(before.create("t", Map.of("model", "m", "input", "Say it again", "instructions", "Be brief",
                "background", true), null).get("id"));
        process.killed = true; // kill -9: nothing it does from here reaches the disk
        assertThat(disk.get("responses/t/" + id).orElseThrow()).contains("\"request\"");

        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.answer("Again", "."));
        ResponsesService after = new ResponsesService(m -> model, null, null, disk, Clock.systemUTC()); // the restart
        after.await(id, Duration.ofSeconds(30));
        Map<String, Object> r = after.get("t", id);
        assertThat(r.get("status")).isEqualTo("completed");
        assertThat(r.get("output").toString()).contains("Again.").doesNotContain("lost");
        assertThat(model.requests()).singleElement().asString().contains("Be brief").contains("Say it again");
        assertThat(disk.get("responses/t/" + id).orElseThrow()).doesNotContain("\"request\"");
        never.countDown();
        before.close();
        after.close();
    }

    @Test
    void twoNodesOnOneStore_runABackgroundResponseOnce_andTheLiveOneTakesItOverWhenItsNodeDies() {
        CountDownLatch never = new CountDownLatch(1);
        Shared shared = new Shared();
        ResponsesService a = shared.nodeA(ScriptedProvider.gated(never, "lost"));
        String id = String.valueOf(a.create("t", Map.of("model", "m", "input", "Say it", "background", true), null).get("id"));

        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.answer("Taken", " over"));
        ResponsesService b = shared.nodeB(model); // starts while A runs it
        b.takeOver();
        assertThat(model.requests()).isEmpty(); // A holds it: B leaves it alone
        assertThat(shared.database.prefix("background/")).hasSize(1);

        shared.nodeA.killed = true; // kill -9: A renews nothing from here
        shared.clock.advance(io.corral.spi.Leases.TTL.minusSeconds(1));
        b.takeOver();
        assertThat(model.requests()).isEmpty(); // A's lease has not run out yet
        shared.clock.advance(Duration.ofSeconds(2));
        b.takeOver();
        b.await(id, Duration.ofSeconds(30));
        assertThat(b.get("t", id).get("status")).isEqualTo("completed");
        assertThat(b.get("t", id).get("output").toString()).contains("Taken over").doesNotContain("lost");
        assertThat(model.requests()).hasSize(1);
        assertThat(shared.database.prefix("background/")).isEmpty(); // ended: nobody takes it again
        assertThat(shared.database.prefix("lease/")).isEmpty();
        b.takeOver();
        assertThat(model.requests()).hasSize(1);
        never.countDown();
        a.close();
        b.close();
    }

    /**
     * A node stalled past its lease (it wakes up, unlike one killed): the other node ran the response again and ended it,
     * and it was deleted; the late node's end is not written back, nor added to the conversation.
     */
    @Test
    void aNodeStalledPastItsLease_doesNotWriteItsLateEndOverWhatCameAfter() {
        CountDownLatch stall = new CountDownLatch(1);
        Shared shared = new Shared();
        ResponsesService a = shared.nodeA(ScriptedProvider.gated(stall, "late"));
        String conversation = String.valueOf(a.createConversation("t", List.of(), Map.of()).get("id"));
        String id = String.valueOf(a.create("t", Map.of("model", "m", "input", "Say it", "background", true,
                "conversation", conversation), null).get("id"));
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.answer("Taken", " over"));
        ResponsesService b = shared.nodeB(model);

        shared.nodeA.killed = true; // A stalls: nothing it writes (its lease's renewals) arrives
        shared.clock.advance(io.corral.spi.Leases.TTL.plusSeconds(1));
        b.takeOver();
        b.await(id, Duration.ofSeconds(30));
        assertThat(b.get("t", id).get("status")).isEqualTo("completed");
        int items = b.items("t", conversation).size();
        b.delete("t", id);

        shared.nodeA.killed = false; // A wakes up and ends what it was running
        stall.countDown();
        a.await(id, Duration.ofSeconds(30));
        assertThatThrownBy(() -> b.get("t", id)).as("the deleted response is not written back")
                .isInstanceOf(io.corral.api.NotFoundException.class);
        assertThat(b.items("t", conversation)).hasSize(items);
        a.close();
        b.close();
    }

    @Test
    void aResponseUnderWayWhenCorralStops_isLeftQueued_andRunsAtTheNextStart() {
        CountDownLatch never = new CountDownLatch(1);
        io.corral.spi.MemoryKeyValueStore state = new io.corral.spi.MemoryKeyValueStore();
        ScriptedProvider stuck = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(never, "x"));
        ResponsesService before = new ResponsesService(m -> stuck, null, null, state, Clock.systemUTC());
        String id = String.valueOf(before.create("t", Map.of("model", "m", "input", "x", "background", true), null).get("id"));
        before.close(); // a graceful stop: the run is stopped, not ended
        assertThat(before.get("t", id).get("status")).isEqualTo("queued");
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.answer("Done"));
        ResponsesService after = new ResponsesService(m -> model, null, null, state, Clock.systemUTC());
        after.await(id, Duration.ofSeconds(30));
        assertThat(after.get("t", id).get("status")).isEqualTo("completed");
        after.close();
    }

    @Test
    void aResponseThatCannotRunAgain_orWasLeftWithoutItsRequest_endsFailedWithTheReason() {
        CountDownLatch never = new CountDownLatch(1);
        io.corral.spi.MemoryKeyValueStore disk = new io.corral.spi.MemoryKeyValueStore();
        io.corral.testing.KillableKeyValueStore process = new io.corral.testing.KillableKeyValueStore(disk);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(never, "x"), ScriptedProvider.gated(never, "y"));
        ResponsesService before = new ResponsesService(m -> model, null, null, process, Clock.systemUTC(), io.corral.api.UrlPolicy.ANY);
        String withMcp = String.valueOf(before.create("t", Map.of("model", "m", "input", "x", "background", true, "tools",
                List.of(Map.of("type", "mcp", "server_label", "s", "server_url", "http://127.0.0.1:1/mcp"))), null).get("id"));
        String old = String.valueOf(before.create("t", Map.of("model", "m", "input", "x", "background", true), null).get("id"));
        process.killed = true;
        var record = (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(disk.get("responses/t/" + old).orElseThrow());
        record.remove("request"); // as an older Corral stored it
        disk.set("responses/t/" + old, Json.text(record));
        assertThat(disk.get("responses/t/" + old).orElseThrow()).doesNotContain("\"request\"");
        ResponsesService after = new ResponsesService(m -> model, null, null, disk, Clock.systemUTC()); // private URLs refused now
        Map<String, Object> r = after.get("t", withMcp);
        assertThat(r.get("status")).isEqualTo("failed");
        assertThat(((Map<?, ?>) r.get("error")).get("message").toString()).contains("could not run again").contains("private address");
        Map<String, Object> o = after.get("t", old);
        assertThat(o.get("status")).isEqualTo("failed");
        assertThat(((Map<?, ?>) o.get("error")).get("message").toString()).contains("stopped while this background response");
        never.countDown();
        before.close();
        after.close();
    }
}

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

/** Background responses: queued at once, run apart, cancelled, and ended as failed (with the reason) by a restart. */
class BackgroundTest {

    @Test
    void aBackgroundResponse_returnsQueued_andIsFoundCompletedOnceItRan() {
        CountDownLatch go = new CountDownLatch(1);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(go, "Done", "."));
        ResponsesService s = new ResponsesService(m -> model, null, null, new MemoryState(), Clock.systemUTC());
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
        ResponsesService s = new ResponsesService(m -> model, null, null, new MemoryState(), Clock.systemUTC());
        String id = String.valueOf(s.create("t", Map.of("model", "m", "input", "x", "background", true), null).get("id"));
        Map<String, Object> cancelled = s.cancel("t", id);
        assertThat(cancelled.get("status")).isEqualTo("cancelled");
        assertThat(s.get("t", id).get("status")).isEqualTo("cancelled");
        assertThat(s.get("t", id).get("output").toString()).doesNotContain("never"); // a run that never ends was stopped: cancel returned
        assertThatThrownBy(() -> s.cancel("t", "resp_nope")).isInstanceOf(io.corral.api.NotFoundException.class);
        s.close();
    }

    @Test
    void aRestart_endsWhatWasRunning_asFailed_withTheReason() {
        CountDownLatch never = new CountDownLatch(1);
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(ScriptedProvider.gated(never, "x"));
        MemoryState state = new MemoryState();
        ResponsesService before = new ResponsesService(m -> model, null, null, state, Clock.systemUTC());
        String id = String.valueOf(before.create("t", Map.of("model", "m", "input", "x", "background", true), null).get("id"));
        ResponsesService after = new ResponsesService(m -> model, null, null, state, Clock.systemUTC()); // what a restart reads
        Map<String, Object> r = after.get("t", id);
        assertThat(r.get("status")).isEqualTo("failed");
        assertThat(((Map<?, ?>) r.get("error")).get("message").toString()).contains("stopped while this background response");
        before.close();
    }
}

package io.corral.server;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** How a passed-on SSE stream ended, seen across read boundaries. */
class StreamEndTest {

    static StreamEnd reads(String... parts) {
        StreamEnd end = new StreamEnd();
        for (String p : parts) {
            byte[] b = (p + "padding-never-read").getBytes(StandardCharsets.UTF_8);
            end.see(b, p.getBytes(StandardCharsets.UTF_8).length); // only the first n bytes count
        }
        return end;
    }

    @Test
    void aNullFinishReason_isNotAFinish_aStringOneIs_withOrWithoutSpaces() {
        assertThat(reads("data: {\"choices\":[{\"finish_reason\":null}]}\n\n").finished()).isFalse();
        assertThat(reads("data: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n").finished()).isTrue();
        assertThat(reads("data: {\"choices\": [{\"finish_reason\": \"length\"}]}\n\n").finished()).isTrue();
    }

    @Test
    void markersSplitAcrossReads_areFound() {
        StreamEnd end = reads("data: {\"choices\":[{\"finish_re", "ason\":\"stop\"}]}\n\ndata: [DO", "NE]\n\n");
        assertThat(end.finished()).isTrue();
        assertThat(end.done()).isTrue();
    }

    @Test
    void done_onlyAtTheEnd() {
        assertThat(reads("data: [DONE]\n\n", "data: {\"x\":1}\n\n").done()).isFalse();
        assertThat(reads("data: {\"x\":1}\n\n").done()).isFalse();
        assertThat(reads("data: {\"x\":1}\n\n", "data: [DONE]").done()).isTrue();
    }
}

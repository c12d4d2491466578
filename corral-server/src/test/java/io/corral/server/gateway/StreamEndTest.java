package io.corral.server.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** How a passed-on SSE stream ended, seen across read boundaries. */
class StreamEndTest {

    static StreamEnd reads(String... parts) {
        StreamEnd end = new StreamEnd();
        for (String p : parts) {
            ByteBuf b = Unpooled.copiedBuffer("skipped" + p + "padding", StandardCharsets.UTF_8);
            b.readerIndex(7).writerIndex(7 + p.getBytes(StandardCharsets.UTF_8).length); // only the readable bytes count
            end.see(b);
            assertThat(b.readerIndex()).isEqualTo(7); // looked at, not consumed
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

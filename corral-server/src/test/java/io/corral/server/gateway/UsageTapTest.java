package io.corral.server.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class UsageTapTest {

    static final String STREAM = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n"
            + "data: [DONE]\n\n";

    /** Feeds the stream cut into pieces of {@code size} bytes; returns what passes on. */
    static String feed(UsageTap tap, int size) {
        StringBuilder out = new StringBuilder();
        byte[] all = STREAM.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < all.length; i += size) {
            ByteBuf in = ByteBufAllocator.DEFAULT.buffer().writeBytes(all, i, Math.min(size, all.length - i));
            ByteBuf passed = tap.frames(in, ByteBufAllocator.DEFAULT);
            out.append(passed.toString(StandardCharsets.UTF_8));
            passed.release();
        }
        ByteBuf rest = tap.rest();
        out.append(rest.toString(StandardCharsets.UTF_8));
        rest.release();
        return out.toString();
    }

    @Test
    void theUsageChunk_isReadAndDropped_whenTheClientDidNotAsk_whereverTheReadsFall() {
        for (int size : new int[]{1, 3, 17, 64, 1000}) {
            UsageTap tap = new UsageTap(false);
            String out = feed(tap, size);
            assertThat(out).as("pieces of " + size).isEqualTo(STREAM.replaceAll("data: \\{\"id\":\"x\"[^\n]*\n\n", ""));
            assertThat(tap.promptTokens()).isEqualTo(7);
            assertThat(tap.completionTokens()).isEqualTo(2);
        }
    }

    /** A frame of several lines (an {@code event:} line before its data) passes whole: only a blank line ends a frame. */
    @Test
    void framesOfSeveralLines_passWhole_whereverTheReadsFall() {
        String stream = "event: message\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\nb\"}}]}\n\n"
                + "id: 2\nevent: message\ndata: [DONE]\n\n";
        byte[] all = stream.getBytes(StandardCharsets.UTF_8);
        for (int size : new int[]{1, 2, 15, 1000}) {
            UsageTap tap = new UsageTap(false);
            StringBuilder passed = new StringBuilder();
            for (int i = 0; i < all.length; i += size) {
                ByteBuf out = tap.frames(ByteBufAllocator.DEFAULT.buffer().writeBytes(all, i, Math.min(size, all.length - i)),
                        ByteBufAllocator.DEFAULT);
                String text = out.toString(StandardCharsets.UTF_8);
                assertThat(text.isEmpty() || text.endsWith("\n\n")).as("whole frames only: " + text).isTrue();
                passed.append(text);
                out.release();
            }
            ByteBuf rest = tap.rest();
            assertThat(rest.readableBytes()).isZero();
            rest.release();
            assertThat(passed.toString()).as("pieces of " + size).isEqualTo(stream);
        }
    }

    @Test
    void theUsageChunk_passes_whenTheClientAsked() {
        UsageTap tap = new UsageTap(true);
        assertThat(feed(tap, 10)).isEqualTo(STREAM);
        assertThat(tap.completionTokens()).isEqualTo(2);
    }

    @Test
    void aJsonAnswersUsage_isReadFromItsLastBytes() {
        UsageTap tap = new UsageTap(false);
        String head = "{\"choices\":[{\"message\":{\"content\":\"" + "x".repeat(3000) + "\"}}],";
        tap.json(Unpooled.copiedBuffer(head, StandardCharsets.UTF_8));
        tap.json(Unpooled.copiedBuffer("\"usage\":{\"prompt_tokens\": 12,\"completion_tokens\":", StandardCharsets.UTF_8));
        tap.json(Unpooled.copiedBuffer(" 34}}", StandardCharsets.UTF_8));
        tap.jsonDone();
        assertThat(tap.promptTokens()).isEqualTo(12);
        assertThat(tap.completionTokens()).isEqualTo(34);
    }
}

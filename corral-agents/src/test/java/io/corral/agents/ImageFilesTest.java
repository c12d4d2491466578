package io.corral.agents;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** An uploaded image's media type, told by its first bytes (a file's name or declared purpose says nothing sure). */
class ImageFilesTest {

    static byte[] bytes(int... b) {
        byte[] out = new byte[32];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    @Test
    void theTypeIsToldByTheFirstBytes() {
        assertThat(ResponsesService.imageType(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A))).isEqualTo("image/png");
        assertThat(ResponsesService.imageType(bytes(0xFF, 0xD8, 0xFF, 0xE0))).isEqualTo("image/jpeg");
        assertThat(ResponsesService.imageType("GIF89a......".getBytes(StandardCharsets.US_ASCII))).isEqualTo("image/gif");
        assertThat(ResponsesService.imageType(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'))).isEqualTo("image/webp");
        assertThat(ResponsesService.imageType(bytes('B', 'M'))).isEqualTo("image/bmp");
        assertThat(ResponsesService.imageType(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'))).isNull(); // a sound
        assertThat(ResponsesService.imageType("%PDF-1.7".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(ResponsesService.imageType(new byte[]{(byte) 0x89, 'P'})).isNull(); // cut short
        assertThat(ResponsesService.imageType(new byte[0])).isNull();
    }
}

package io.corral.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** An image's media type, told by its first bytes (a file's name, or an API that sends bare base64, says nothing sure). */
class ContentPartTest {

    static byte[] bytes(int... b) {
        byte[] out = new byte[32];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    static final byte[] PNG = bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A);
    static final byte[] JPEG = bytes(0xFF, 0xD8, 0xFF, 0xE0);

    static String url(ContentPart p) {
        return ((ContentPart.Image) p).url();
    }

    @Test
    void theTypeIsToldByTheFirstBytes() {
        assertThat(ContentPart.imageType(PNG)).isEqualTo("image/png");
        assertThat(ContentPart.imageType(JPEG)).isEqualTo("image/jpeg");
        assertThat(ContentPart.imageType("GIF89a......".getBytes(StandardCharsets.US_ASCII))).isEqualTo("image/gif");
        assertThat(ContentPart.imageType(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'))).isEqualTo("image/webp");
        assertThat(ContentPart.imageType(bytes('B', 'M'))).isEqualTo("image/bmp");
        assertThat(ContentPart.imageType(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'))).isNull(); // a sound
        assertThat(ContentPart.imageType("%PDF-1.7".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(ContentPart.imageType(new byte[]{(byte) 0x89, 'P'})).isNull(); // cut short
        assertThat(ContentPart.imageType(new byte[0])).isNull();
    }

    @Test
    void dataUrls_carryTheTypeTheBytesTell_notTheName(@TempDir Path dir) throws Exception {
        Path misnamed = Files.write(dir.resolve("photo.jpg"), PNG);
        assertThat(url(ContentPart.imageFile(misnamed))).isEqualTo("data:image/png;base64," + Base64.getEncoder().encodeToString(PNG));
        assertThat(url(ContentPart.image("plain text".getBytes(StandardCharsets.UTF_8)))).startsWith("data:application/octet-stream;base64,");
        String jpeg = Base64.getEncoder().encodeToString(JPEG);
        assertThat(url(ContentPart.imageBase64(jpeg))).isEqualTo("data:image/jpeg;base64," + jpeg); // Ollama's bare base64
        assertThat(url(ContentPart.imageBase64("not base64!"))).isEqualTo("data:application/octet-stream;base64,not base64!");
    }
}

package io.corral.api;

import java.util.Objects;

/** One part of a message's content: text or an image. */
public sealed interface ContentPart {

    /** The largest image file a request may carry (an engine refuses more; a file named by id is checked against it). */
    int MAX_IMAGE_BYTES = 20 << 20;

    /** Plain text. */
    record Text(String text) implements ContentPart {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** An image, given by URL ({@code https:} or {@code data:}). */
    record Image(String url) implements ContentPart {
        public Image {
            Objects.requireNonNull(url, "url");
        }
    }

    static ContentPart text(String text) {
        return new Text(text);
    }

    static ContentPart image(String url) {
        return new Image(url);
    }

    /**
     * An image file as a {@code data:} URL (its type told by its first bytes, as {@link #image(byte[])}): how a file
     * reaches a model, in-process or remote, since requests never name files of the machine that serves them.
     */
    static ContentPart imageFile(java.nio.file.Path file) throws java.io.IOException {
        return image(java.nio.file.Files.readAllBytes(file));
    }

    /** An image's bytes as a {@code data:} URL, its type told by its first bytes ({@link #imageType}), else octet-stream. */
    static ContentPart image(byte[] bytes) {
        String type = imageType(bytes);
        return new Image("data:" + (type != null ? type : "application/octet-stream") + ";base64,"
                + java.util.Base64.getEncoder().encodeToString(bytes));
    }

    /**
     * Base64 image data as APIs send it bare (Ollama's {@code images}, Llama Stack's image {@code data}) as a {@code data:}
     * URL, its type told by its first bytes; data that is not base64 is passed on for the engine to refuse.
     */
    static ContentPart imageBase64(String base64) {
        String head = base64.length() > 24 ? base64.substring(0, 24) : base64; // 18 bytes: enough for every type told
        String type;
        try {
            type = imageType(java.util.Base64.getDecoder().decode(head));
        } catch (IllegalArgumentException notBase64) {
            type = null;
        }
        return new Image("data:" + (type != null ? type : "application/octet-stream") + ";base64," + base64);
    }

    /** The media type an image's first bytes tell (PNG, JPEG, GIF, WebP or BMP), or null. */
    static String imageType(byte[] b) {
        if (starts(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return "image/png";
        }
        if (starts(b, 0, 0xFF, 0xD8, 0xFF)) {
            return "image/jpeg";
        }
        if (starts(b, 0, 'G', 'I', 'F', '8')) {
            return "image/gif";
        }
        if (starts(b, 0, 'R', 'I', 'F', 'F') && starts(b, 8, 'W', 'E', 'B', 'P')) {
            return "image/webp";
        }
        if (starts(b, 0, 'B', 'M') && b.length > 14) {
            return "image/bmp";
        }
        return null;
    }

    private static boolean starts(byte[] b, int at, int... magic) {
        if (b.length < at + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((b[at + i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}

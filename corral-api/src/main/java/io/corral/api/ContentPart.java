package io.corral.api;

import java.util.Objects;

/** One part of a message's content: text or an image. */
public sealed interface ContentPart {

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
     * An image file as a {@code data:} URL (its type from its name: png, jpeg, gif, bmp, webp): how a file reaches a
     * model, in-process or remote, since requests never name files of the machine that serves them.
     */
    static ContentPart imageFile(java.nio.file.Path file) throws java.io.IOException {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String type = name.endsWith(".png") ? "image/png" : name.endsWith(".jpg") || name.endsWith(".jpeg") ? "image/jpeg"
                : name.endsWith(".gif") ? "image/gif" : name.endsWith(".bmp") ? "image/bmp"
                : name.endsWith(".webp") ? "image/webp" : "application/octet-stream";
        return new Image("data:" + type + ";base64," + java.util.Base64.getEncoder().encodeToString(
                java.nio.file.Files.readAllBytes(file)));
    }
}

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
}

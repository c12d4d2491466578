package io.corral.spi;

import java.io.IOException;
import java.io.InputStream;

/**
 * A runner that speaks the OpenAI wire protocol itself, so a gateway can forward a request's bytes
 * untouched instead of decoding and re-encoding it (see {@code Router.forward}).
 */
public interface OpenAiWire {

    /**
     * Posts {@code body}, an OpenAI request, to {@code path} under the host's base URL (e.g.
     * {@code /chat/completions}). Returns once the host has answered 2xx; a failure or any other status
     * throws the same typed errors as the provider's own calls.
     */
    WireResponse post(String path, byte[] body);

    /** The host's answer: JSON, or an SSE stream when the request asked for one. Close it when done. */
    record WireResponse(String contentType, InputStream body) implements AutoCloseable {
        public boolean isStream() {
            return contentType.startsWith("text/event-stream");
        }

        @Override
        public void close() {
            try {
                body.close();
            } catch (IOException ignored) {
                // the connection is dropped either way
            }
        }
    }
}

package io.corral.spi;

import java.util.function.Consumer;

/**
 * The models kept on this machine, as Ollama manages them: pulled by name or reference, copied under another name,
 * deleted. Implemented by the models module; the server's Ollama routes call it.
 */
public interface ModelLibrary {

    /** How far a pull has come, in Ollama's words: a status, and for a download its digest and bytes. */
    record Progress(String status, String digest, long total, long completed) {
    }

    /** Pulls {@code ref} (an Ollama name, {@code hf.co/...}, or a URL), reporting progress; returns the name kept. */
    String pull(String ref, Consumer<Progress> progress);

    /** Removes a model's name; {@link io.corral.api.NotFoundException} when there is none. */
    void delete(String name);

    /** Keeps {@code from}'s file under {@code to} too. */
    void copy(String from, String to);
}

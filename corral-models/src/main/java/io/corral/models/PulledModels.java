package io.corral.models;

import io.corral.api.NotFoundException;
import io.corral.spi.ModelLibrary;

import java.util.function.Consumer;

/** {@link ModelLibrary} over a {@link ModelStore} and its {@link Puller}: Ollama's names pull from its registry. */
public final class PulledModels implements ModelLibrary {

    private final ModelStore store;
    private final Puller puller;

    public PulledModels(ModelStore store, Puller puller) {
        this.store = store;
        this.puller = puller;
    }

    /** An Ollama name ({@code llama3.2:1b}) is the Ollama registry's; {@code hf.co/...} and URLs are as they are. */
    static String reference(String ref) {
        if (ref.contains("://") || ref.startsWith("hf.co/") || ref.startsWith("huggingface.co/")) {
            return ref;
        }
        return "ollama://" + ref;
    }

    @Override
    public String pull(String ref, Consumer<Progress> progress) {
        progress.accept(new Progress("pulling manifest", null, 0, 0));
        ModelStore.Model m = puller.pull(reference(ref), null, ref.contains("://") ? null : ref, p -> progress.accept(
                new Progress("pulling " + p.name(), null, p.total(), p.done())));
        progress.accept(new Progress("verifying sha256 digest", "sha256:" + m.sha256(), m.size(), m.size()));
        progress.accept(new Progress("writing manifest", null, 0, 0));
        progress.accept(new Progress("success", null, 0, 0));
        return m.name();
    }

    @Override
    public void delete(String name) {
        store.remove(name);
    }

    @Override
    public void copy(String from, String to) {
        ModelStore.Model m = store.find(from).orElseThrow(() -> new NotFoundException("model", "no pulled model '" + from + "'"));
        store.record(to, m.source(), m.file(), m.sha256(), m.size(), m.projector());
    }
}

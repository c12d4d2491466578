package io.corral.cli;

import io.corral.models.ModelStore;
import io.corral.models.Puller;
import io.corral.spi.ProviderFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code corral pull}: a model downloaded into the store of pulled models ({@code list} and {@code rm} beside it). */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a GGUF model: hf://owner/repo/file.gguf, owner/repo:QUANT (Hugging Face; HF_ENDPOINT for a",
                "mirror), ollama://name:tag (the Ollama registry; CORRAL_OLLAMA_REGISTRY for another), or an http(s) URL.",
                "Resumes an interrupted download, checks its sha256, and keeps it under a name -m accepts."})
final class PullCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", description = "What to pull.")
    String ref;

    @Option(names = "--sha256", description = "The file's sha256, for a URL whose source does not say it.")
    String sha256;

    @Option(names = "--name", description = "The name to keep it under (default: from the reference).")
    String name;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        boolean terminal = System.console() != null;
        long[] lastLine = {-1};
        ModelStore.Model m = Puller.of(store(), System.getenv(), io.corral.api.UrlPolicy.ANY).pull(ref, sha256, name, p -> {
            if (terminal) {
                out.print("\r" + bar(p));
                out.flush();
            } else if (p.total() <= 0 || p.done() * 10 / p.total() != lastLine[0] || p.done() == p.total()) {
                lastLine[0] = p.total() <= 0 ? -1 : p.done() * 10 / p.total();
                out.println(bar(p));
            }
        });
        if (terminal) {
            out.println();
        }
        out.println("pulled " + m.name() + " (" + size(m.size()) + ", sha256 " + m.sha256().substring(0, 12) + ") to " + m.file());
        out.flush();
        return 0;
    }

    /** A progress line: percent, bytes, speed and time left. */
    static String bar(Puller.Progress p) {
        String speed = size((long) p.bytesPerSecond()) + "/s";
        if (p.total() <= 0) {
            return String.format(Locale.ROOT, "%s  %s  %s", p.name(), size(p.done()), speed);
        }
        int pct = (int) (p.done() * 100 / p.total());
        int filled = pct / 5;
        long left = p.bytesPerSecond() > 0 ? (long) ((p.total() - p.done()) / p.bytesPerSecond()) : 0;
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %s/%s %s %ds left", p.name(), "#".repeat(filled), ".".repeat(20 - filled),
                pct, size(p.done()), size(p.total()), speed, left);
    }

    static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : bytes >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20))
                : String.format(Locale.ROOT, "%d KiB", bytes >> 10);
    }

    static ModelStore store() {
        return ModelStore.inCache(ProviderFactory.Context.system().cacheDir());
    }

    /** A {@code -m} value: a file that exists, or the name of a pulled model (its file); null stays null. */
    static Path resolve(Path given) {
        if (given == null || Files.exists(given)) {
            return given;
        }
        return store().find(given.toString()).map(ModelStore.Model::file).orElse(given);
    }
}

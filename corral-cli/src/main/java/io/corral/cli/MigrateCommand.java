package io.corral.cli;

import io.corral.config.ConfigLoader;
import io.corral.config.DistributionConfig;
import io.corral.retrieval.VectorStoreService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code corral migrate --to CONFIG}: copies the state and the vector stores (chunks with their embeddings) from
 * the embedded defaults (or {@code --from CONFIG}) to the providers another config names (PostgreSQL for
 * {@code storage}, OpenSearch for {@code vector_io}), then checks each store on both sides. Nothing may run on
 * either side meanwhile; the source is left as it was. Uploaded files stay where the files provider keeps them.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Copy state and vector stores from the embedded defaults (or --from) to the storage and",
                "vector_io providers of --to (e.g. PostgreSQL and OpenSearch), then check each store on both sides."})
final class MigrateCommand implements Callable<Integer> {

    @Option(names = "--to", required = true, description = "The distribution config to move to.")
    Path to;

    @Option(names = "--from", description = "The distribution config to move from (default: the embedded defaults).")
    Path from;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        DistributionConfig source = from == null ? null : ConfigLoader.load(from);
        DistributionConfig target = ConfigLoader.load(to);
        PrintWriter out = spec.commandLine().getOut();
        int bad = 0;
        try (Knowledge.Parts a = Knowledge.parts(from, source); Knowledge.Parts b = Knowledge.parts(to, target)) {
            var first = b.vectorIo().entrySet().iterator().next();
            for (var m : VectorStoreService.migrate(a.state(), a.vectorIo(), b.state(), first.getKey(), first.getValue())) {
                boolean ok = m.sourceChunks() == m.targetChunks() && m.sameResults();
                bad += ok ? 0 : 1;
                out.printf("%s: %d chunks -> %d, searches %s%n", m.storeId(), m.sourceChunks(), m.targetChunks(),
                        m.sameResults() ? "agree" : "DIFFER");
            }
        }
        out.println(bad == 0 ? "migrated; serve with --config " + to : bad + " store(s) differ after the copy");
        out.flush();
        return bad == 0 ? 0 : 1;
    }
}

package io.corral.cli;

import io.corral.spi.ProviderFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code corral restore DIR}: puts a backup's state in place of the embedded defaults' (the cache folder), with
 * no server running; what was there is kept beside it as {@code NAME.before-restore-TIME}.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Put a backup (from `corral backup`) in place of the embedded state in the cache folder;",
                "stop the server first. What was there is kept beside it as NAME.before-restore-TIME."})
final class RestoreCommand implements Callable<Integer> {

    static final List<String> PARTS = List.of("kvstore.db", "files", "vector_io");

    @Parameters(index = "0", paramLabel = "DIR", description = "A folder `corral backup` made.")
    Path dir;

    @Option(names = "--url", description = "Where a running server would answer (default ${DEFAULT-VALUE}).",
            defaultValue = "http://127.0.0.1:8321")
    String url;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(dir.resolve("kvstore.db"))) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), dir + " is not a backup (no kvstore.db)");
        }
        if (ServerCall.exchange(url, "/v1/health", null, null, Duration.ofSeconds(10)) != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a server answers at " + url + ": stop it first");
        }
        Path cache = ProviderFactory.Context.system().cacheDir();
        Files.createDirectories(cache);
        String stamp = Long.toString(System.currentTimeMillis() / 1000);
        for (String part : PARTS) {
            Path from = dir.resolve(part);
            Path to = cache.resolve(part);
            if (!Files.exists(from)) {
                continue;
            }
            if (Files.exists(to)) {
                Files.move(to, cache.resolve(part + ".before-restore-" + stamp));
            }
            Files.deleteIfExists(cache.resolve(part + "-wal"));
            Files.deleteIfExists(cache.resolve(part + "-shm"));
            try (Stream<Path> walk = Files.walk(from)) {
                for (Path p : walk.toList()) {
                    Path q = to.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(q);
                    } else {
                        Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        }
        spec.commandLine().getOut().println("restored " + dir + " into " + cache + " (what was there: *.before-restore-" + stamp + ")");
        return 0;
    }
}

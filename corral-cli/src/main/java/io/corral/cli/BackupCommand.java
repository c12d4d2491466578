package io.corral.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.config.ConfigLoader;
import io.corral.config.DistributionConfig;
import io.corral.retrieval.VectorStoreService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code corral backup DIR}: a consistent copy of the embedded state (records, uploaded files, vector stores)
 * into a new folder; through the running server when one answers (it copies while serving), directly otherwise.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Copy the embedded state (files, vector stores, records) into a new folder, consistently,",
                "through the running server when one answers at --url (while it serves), directly otherwise."})
final class BackupCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "A folder that does not exist yet.")
    Path dir;

    @Option(names = "--url", description = "The server (default ${DEFAULT-VALUE}).", defaultValue = "http://127.0.0.1:8321")
    String url;

    @Option(names = "--api-key", description = "The server's API key, if it needs one (also CORRAL_API_KEY).")
    String apiKey;

    @Option(names = "--config", description = "The distribution config whose state to copy, when no server runs.")
    Path configFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path target = dir.toAbsolutePath().normalize();
        if (Files.exists(target)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), target + " exists; a backup goes into a new folder");
        }
        ServerCall.Answer a = ServerCall.exchange(url, "/v1/admin/backup", apiKey,
                new ObjectMapper().writeValueAsString(Map.of("path", target.toString())), Duration.ofMinutes(30));
        if (a != null) {
            if (a.status() != 200) {
                throw new io.corral.api.InvalidRequestException(null, url + " refused the backup (" + a.status() + "): " + a.message());
            }
            spec.commandLine().getOut().println("backed up through the server at " + url + " into " + target);
            return 0;
        }
        // no server: nothing else writes the state, so a plain copy is consistent
        DistributionConfig distribution = configFile == null ? null : ConfigLoader.load(configFile);
        try (Knowledge.Parts parts = Knowledge.parts(configFile, distribution)) {
            VectorStoreService.copy(target, parts.state(), parts.files(), parts.vectorIo());
        }
        spec.commandLine().getOut().println("backed up directly into " + target);
        return 0;
    }
}

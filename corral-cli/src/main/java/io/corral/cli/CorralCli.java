package io.corral.cli;

import io.corral.api.CorralException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.logging.Level;
import java.util.logging.Logger;

@Command(name = "corral", mixinStandardHelpOptions = true, version = "corral 0.1.0",
        description = "Run large language models: in-process llama.cpp, an OpenAI- and Llama Stack-compatible server.",
        subcommands = {RunCommand.class, ChatCommand.class, ServeCommand.class, EnginesCommand.class, ModelsCommand.class,
                CheckCommand.class, IngestCommand.class, BackupCommand.class, RestoreCommand.class,
                MigrateCommand.class, PullCommand.class, ListCommand.class, ShowCommand.class, RmCommand.class, PsCommand.class})
public final class CorralCli implements Runnable {

    @CommandLine.Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show llama.cpp's log on stderr.")
    void verbose(boolean on) {
        Logger.getLogger("llama.cpp").setLevel(on ? Level.ALL : Level.OFF);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    // llama.cpp's own log stays quiet on the command line (--verbose shows it); held here, as java.util.logging holds
    // its loggers weakly and a collected one comes back at the default level, printing llama.cpp's errors twice
    private static final Logger LLAMA_LOG = Logger.getLogger("llama.cpp");

    /** The command line with Corral's error handling: a one-line message on stderr and exit code 1. */
    public static CommandLine commandLine() {
        LLAMA_LOG.setLevel(Level.OFF);
        CommandLine cmd = new CommandLine(new CorralCli());
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = e instanceof CorralException ? e.getMessage()
                    : e instanceof java.io.UncheckedIOException u ? u.getMessage() + ": " + u.getCause().getMessage()
                    : e.toString();
            commandLine.getErr().println("corral: " + message);
            commandLine.getErr().flush();
            return 1;
        });
        return cmd;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}

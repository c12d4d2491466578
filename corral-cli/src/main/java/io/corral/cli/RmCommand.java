package io.corral.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code corral rm}: a pulled model removed (its file too, when no other name uses it). */
@Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a pulled model (its file, when no other name uses it).")
final class RmCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "The model's name, as `corral list` shows it.")
    String name;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PullCommand.store().remove(name);
        spec.commandLine().getOut().println("removed " + name);
        spec.commandLine().getOut().flush();
        return 0;
    }
}

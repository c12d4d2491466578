package io.corral.cli;

import io.corral.models.ModelStore;
import picocli.CommandLine.Command;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code corral list}: the models pulled to this machine. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the models pulled to this machine.")
final class ListCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        for (ModelStore.Model m : PullCommand.store().list()) {
            spec.commandLine().getOut().printf(Locale.ROOT, "%-40s %10s  %s  %s%n", m.name(), PullCommand.size(m.size()),
                    m.sha256().substring(0, 12), m.source());
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}

package io.mucheckpoint.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** Sub-commands whose capability is not built yet: they say so and exit with the "not available" status. */
final class NotYetCommand {
    private NotYetCommand() {}

    @Command(name = "inject", mixinStandardHelpOptions = true, description = "Fault-injection campaigns (not available yet).")
    static final class Inject implements Callable<Integer> {
        @Unmatched
        List<String> args;

        @Override
        public Integer call() {
            throw VmmException.notAvailable("vmm inject (fault-injection campaigns)");
        }
    }
}

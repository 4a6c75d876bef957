package io.mucheckpoint.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "workloads", mixinStandardHelpOptions = true, description = "List the bundled guest workloads (run one with: vmm run NAME).")
final class WorkloadsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<BundledGuests.Guest> guests = BundledGuests.list();
        int width = guests.stream().mapToInt(g -> g.name().length()).max().orElse(4);
        for (int i = 0; i < guests.size(); i++) {
            BundledGuests.Guest g = guests.get(i);
            String suffix = i == 0 ? " (default)" : "";
            out.printf("%-" + width + "s  %s%s%n", g.name(), g.description(), suffix);
        }
        out.flush();
        return ExitStatus.OK;
    }
}

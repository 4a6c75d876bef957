package io.mucheckpoint.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "campaign", mixinStandardHelpOptions = true, subcommands = CampaignMergeCommand.class,
        description = "Work on fault-injection campaigns that vmm inject ran (their journals).",
        footer = {"", ExitStatus.HELP})
final class CampaignCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return ExitStatus.USAGE;
    }
}

package io.mucheckpoint.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "console", mixinStandardHelpOptions = true, description = "The interactive rollback console (not available yet).")
final class ConsoleCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Override
    public Integer call() {
        throw VmmException.notAvailable("vmm console (the interactive rollback console)");
    }
}

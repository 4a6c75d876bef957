package io.mucheckpoint.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code vmm} command. */
@Command(name = "vmm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"μCheckpoint VMM: an emulated x86 PC that micro-checkpoints the running guest",
                "and rolls it back in place."},
        subcommands = {RunCommand.class, ConsoleCommand.class, InjectCommand.class, CampaignCommand.class, WorkloadsCommand.class},
        footer = {"", "Run 'vmm COMMAND --help' for a command's options.", "", ExitStatus.HELP})
public final class Main implements Callable<Integer> {
    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Log more (repeat for debug detail) to standard error.")
    void verbose(boolean[] v) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(v.length >= 2 ? Level.DEBUG : Level.INFO);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return ExitStatus.OK;
    }

    public static void main(String[] args) {
        HeapSettle.enable();
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit status (for tests, without exiting the JVM). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof VmmException v) {
                line.getErr().println("vmm: " + v.getMessage());
                return v.status();
            }
            // Every write names its file itself (OutputFiles); this catches one that does not, as a file error.
            Throwable io = ex instanceof java.io.UncheckedIOException u ? u.getCause() : ex;
            if (io instanceof java.nio.file.FileSystemException f && f.getFile() != null) {
                LoggerFactory.getLogger(Main.class).debug("file error", ex);
                line.getErr().println("vmm: cannot write " + f.getFile().replaceFirst("\\.tmp$", "") + ": "
                        + OutputFiles.reason(java.nio.file.Path.of(f.getFile()), f));
                return ExitStatus.CANT_CREATE;
            }
            LoggerFactory.getLogger(Main.class).debug("internal error", ex);
            line.getErr().println("vmm: internal error: " + ex + " (run with -vv for details)");
            return ExitStatus.INTERNAL;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("vmm: " + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitStatus.USAGE;
        });
        RepeatedWarnings warnings = RepeatedWarnings.install();
        try {
            return cl.execute(args);
        } finally {
            warnings.report(System.err);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/vmm-version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"μCheckpoint VMM " + p.getProperty("version", "(unknown version)"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}

package io.mucheckpoint.cli;

/**
 * The statuses {@code vmm} exits with. A guest that writes v to isa-debug-exit makes {@code vmm run}
 * exit with v (0-255); the VMM's own outcomes use the values below, chosen from the BSD sysexits
 * range so that they do not collide with the small statuses guests use.
 */
public final class ExitStatus {
    public static final int OK = 0;
    /**
     * Bad command line: unknown option, malformed value, conflicting options; journals that are not the
     * shards of one whole campaign (campaign merge), or not of the campaign of the command (inject --resume).
     */
    public static final int USAGE = 64;
    /** The guest image, a state file or a campaign journal is malformed. */
    public static final int BAD_IMAGE = 65;
    /** A file named on the command line cannot be read. */
    public static final int NO_INPUT = 66;
    /** The capability asked for is not built yet. */
    public static final int NOT_AVAILABLE = 69;
    /** A bug in the VMM itself. */
    public static final int INTERNAL = 70;
    /** The guest crashed: triple fault, halt with interrupts off, or a reset request without --reboot. */
    public static final int GUEST_CRASH = 71;
    /**
     * An output file named by the user cannot be written (found before the run wherever it can be),
     * or was not: {@code --save-at} lies beyond the run's end.
     */
    public static final int CANT_CREATE = 73;
    /** {@code --time-limit} ended the run before the guest did; as timeout(1) does, so scripts know it. */
    public static final int TIME_LIMIT = 124;
    /** Interrupted by the user (Ctrl-C, Ctrl-A x, or kill in an attached gdb). */
    public static final int INTERRUPTED = 130;

    /** The table printed by --help. */
    public static final String HELP = "Exit status:%n"
            + "  v     the guest wrote v to isa-debug-exit (port 0xF4); see --exit-code%n"
            + "  64    bad usage (unknown option, malformed value; journals that are not one%n"
            + "        whole campaign, or not the campaign of the command that resumes one)%n"
            + "  65    bad guest image, state file or campaign journal%n"
            + "  66    a named file cannot be read%n"
            + "  69    the capability asked for is not available yet%n"
            + "  70    internal error in the VMM%n"
            + "  71    the guest crashed: triple fault, halt with interrupts off, or reset%n"
            + "  73    an output file cannot be written, or --save-at was never reached%n"
            + "  124   --time-limit reached before the guest ended (as timeout(1))%n"
            + "  130   interrupted (Ctrl-C, Ctrl-A x, kill in gdb)%n"
            + "vmm console reading commands from a pipe or a file exits with the status of%n"
            + "the first command that failed.";

    private ExitStatus() {}
}

package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The checkpoint engine's options, shared by run and console. */
final class CheckpointOptions {
    @Option(names = "--no-checkpoint", description = "Run without checkpointing.")
    boolean off;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "50ms",
            description = "Epoch length: guest time (50ms, 1.5s, 250us) or guest instructions (5000000i, 2.5Mi), at least "
                    + CheckpointOptions.FLOOR_INSTRUCTIONS + " instructions' worth (default: ${DEFAULT-VALUE}).")
    String interval;

    @Option(names = "--clock", paramLabel = "guest|host", defaultValue = "guest",
            description = "Cut epochs by guest time (reproducible) or by the host clock, as the paper did (default: ${DEFAULT-VALUE}).")
    String clock;

    @Option(names = "--mode", paramLabel = "cow|copy|full", defaultValue = "cow",
            description = "Copy-on-write undo logs, Remus-style stop-and-copy, or full copies (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--predictor", paramLabel = "none|last|history|adaptive", defaultValue = "history",
            description = "Which pages to copy ahead at a boundary (cow mode); adaptive is history that backs off while its"
                    + " copies cost more than the traps they save (default: ${DEFAULT-VALUE}).")
    String predictor;

    @Option(names = "--latency", paramLabel = "DURATION", defaultValue = "200ms",
            description = {"Error-latency bound L: recovery goes back to the newest checkpoint at least L before a detection,",
                    "and the engine keeps every checkpoint that needs, whatever their number (default: ${DEFAULT-VALUE})."})
    String latency;

    /** Checkpoints kept when --keep is not given, if L needs fewer: older ones are what escalation goes back to. */
    static final int DEFAULT_KEEP = 64;

    @Option(names = "--keep", paramLabel = "N",
            description = {"Retain at most N checkpoints, even if L needs more (then it says once how much of L is covered)",
                    "(default: " + DEFAULT_KEEP + ", or as many as L needs if that is more)."})
    Integer keep;

    @Option(names = "--checkpoint-memory", paramLabel = "SIZE", defaultValue = "256M",
            description = "Memory for saved pages; when it runs out the window shrinks, with a warning (default: ${DEFAULT-VALUE}).")
    String memory;

    /**
     * The shortest epoch, in guest instructions. A boundary costs the host 14-70 us of CPU however
     * short the epoch (mcf size=test, median user CPU per extra boundary against 50ms, five runs
     * each: 14 us at 100-instruction epochs, 40 us at 1,000, 69 us at 10,000), while 1,000
     * instructions run in about 15 us: below 10,000 instructions (100 us at the default --ips) the
     * pauses exceed the guest's own execution, and at 1i a 4-second job needs hours.
     */
    static final long FLOOR_INSTRUCTIONS = 10_000;

    CheckpointConfig config(long ticksPerSecond) {
        Interval i = GuestOptions.parse(() -> Units.interval(interval), "--interval");
        checkFloor(i, ticksPerSecond, "--interval " + interval);
        long l = GuestOptions.parse(() -> Units.guestNanos(latency), "--latency");
        if (!clock.equals("guest") && !clock.equals("host")) {
            throw new VmmException(ExitStatus.USAGE, "--clock takes guest or host, not '" + clock + "'");
        }
        if (clock.equals("host") && i.instructions()) {
            throw new VmmException(ExitStatus.USAGE, "--clock host needs a time interval (like 50ms), not instructions");
        }
        if (keep != null && keep < 1) throw new VmmException(ExitStatus.USAGE, "--keep must be at least 1");
        long budget = GuestOptions.parse(() -> Units.size(memory), "--checkpoint-memory");
        try {
            return new CheckpointConfig(i, clock.equals("host"), enumOf(CheckpointConfig.Mode.class, mode, "--mode"),
                    enumOf(CheckpointConfig.PredictorKind.class, predictor, "--predictor"), l, keep != null ? keep : DEFAULT_KEEP,
                    budget, keep != null);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
    }

    /** Refuses an epoch shorter than {@link #FLOOR_INSTRUCTIONS} guest instructions (at {@code ticksPerSecond}, the --ips rate). */
    static void checkFloor(Interval i, long ticksPerSecond, String what) {
        long floorNanos = Math.max(1, FLOOR_INSTRUCTIONS * 1_000_000_000L / ticksPerSecond);
        boolean below = i.instructions() ? i.amount() < FLOOR_INSTRUCTIONS : i.amount() < floorNanos;
        if (below) {
            throw new VmmException(ExitStatus.USAGE, what + " is below the floor of " + FLOOR_INSTRUCTIONS + " instructions ("
                    + Units.formatNanos(floorNanos) + " of guest time at --ips "
                    + (ticksPerSecond % 1_000_000 == 0 ? ticksPerSecond / 1_000_000 + "M" : String.valueOf(ticksPerSecond)) + "):"
                    + " shorter epochs spend more time in checkpoint pauses than running the guest");
        }
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String value, String option) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            StringBuilder b = new StringBuilder();
            for (E c : type.getEnumConstants()) b.append(b.length() == 0 ? "" : ", ").append(c.name().toLowerCase(Locale.ROOT));
            throw new VmmException(ExitStatus.USAGE, option + " takes one of " + b + ", not '" + value + "'");
        }
    }
}

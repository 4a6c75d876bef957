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
            description = "Epoch length: guest time (50ms, 1s) or guest instructions (5000000i) (default: ${DEFAULT-VALUE}).")
    String interval;

    @Option(names = "--clock", paramLabel = "guest|host", defaultValue = "guest",
            description = "Cut epochs by guest time (reproducible) or by the host clock, as the paper did (default: ${DEFAULT-VALUE}).")
    String clock;

    @Option(names = "--mode", paramLabel = "cow|copy|full", defaultValue = "cow",
            description = "Copy-on-write undo logs, Remus-style stop-and-copy, or full copies (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--predictor", paramLabel = "none|last|history", defaultValue = "history",
            description = "Which pages to copy ahead at a boundary (cow mode) (default: ${DEFAULT-VALUE}).")
    String predictor;

    @Option(names = "--latency", paramLabel = "DURATION", defaultValue = "200ms",
            description = "Error-latency bound L: keep checkpoints covering the last L of guest time (default: ${DEFAULT-VALUE}).")
    String latency;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "64",
            description = "Retain at most N checkpoints (default: ${DEFAULT-VALUE}).")
    int keep;

    @Option(names = "--checkpoint-memory", paramLabel = "SIZE", defaultValue = "256M",
            description = "Memory for saved pages; when it runs out the window shrinks, with a warning (default: ${DEFAULT-VALUE}).")
    String memory;

    CheckpointConfig config() {
        Interval i = GuestOptions.parse(() -> Units.interval(interval), "--interval");
        long l = GuestOptions.parse(() -> Units.guestNanos(latency), "--latency");
        if (!clock.equals("guest") && !clock.equals("host")) {
            throw new VmmException(ExitStatus.USAGE, "--clock takes guest or host, not '" + clock + "'");
        }
        if (clock.equals("host") && i.instructions()) {
            throw new VmmException(ExitStatus.USAGE, "--clock host needs a time interval (like 50ms), not instructions");
        }
        if (keep < 1) throw new VmmException(ExitStatus.USAGE, "--keep must be at least 1");
        long budget = GuestOptions.parse(() -> Units.size(memory), "--checkpoint-memory");
        try {
            return new CheckpointConfig(i, clock.equals("host"), enumOf(CheckpointConfig.Mode.class, mode, "--mode"),
                    enumOf(CheckpointConfig.PredictorKind.class, predictor, "--predictor"), l, keep, budget);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
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

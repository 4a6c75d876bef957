package io.mucheckpoint.cli;

import io.mucheckpoint.recovery.ReplayConsole;
import java.util.Locale;

/** The --output-commit option of run and inject: immediate (the default) or latency. */
final class OutputCommit {
    private OutputCommit() {}

    /** Whether output is held ({@code latency}); anything but the two names is a usage error. */
    static boolean held(String value) {
        return switch (value) {
            case "immediate" -> false;
            case "latency" -> true;
            default -> throw new VmmException(ExitStatus.USAGE, "--output-commit takes immediate or latency, not '" + value + "'");
        };
    }

    /** One line on what holding the output cost: how many bytes waited, and how long in guest time. */
    static String cost(ReplayConsole.HeldOutput h) {
        return String.format(Locale.ROOT, "output commit: %,d bytes held, for %.3f ms of guest time on average, %.3f ms at most",
                h.bytes(), h.meanDelayNanos() / 1e6, h.maxDelayNanos() / 1e6);
    }
}

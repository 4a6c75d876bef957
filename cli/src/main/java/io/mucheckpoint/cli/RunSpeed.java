package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.Machine;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The speed summary {@code vmm run --stats} prints at exit: instructions retired and host time, and
 * how far the guest had got {@value #WARMUP_SECONDS} s after the process started (the JIT's warm-up
 * shows there), so that a benchmark can tell the first seconds of a run from the rest
 * (benchmarks/speed.sh). Host time here is only reported, never seen by the guest.
 */
final class RunSpeed {
    static final int WARMUP_SECONDS = 10;

    private final Machine machine;
    private final Instant processStart;
    private volatile long icountAtWarmup = -1;

    private RunSpeed(Machine machine) {
        this.machine = machine;
        this.processStart = ProcessHandle.current().info().startInstant().orElse(Instant.now());
    }

    /**
     * Starts watching: a daemon thread reads the instruction count once, {@value #WARMUP_SECONDS} s
     * after the process started. The read is unsynchronised (the count is a plain field the guest
     * thread updates at block ends), which is good enough for a statistic and costs the guest nothing.
     */
    static RunSpeed start(Machine machine) {
        RunSpeed s = new RunSpeed(machine);
        Thread t = new Thread(() -> {
            try {
                long wait = Duration.between(Instant.now(), s.processStart.plusSeconds(WARMUP_SECONDS)).toMillis();
                if (wait > 0) Thread.sleep(wait);
                s.icountAtWarmup = machine.cpu.icount();
            } catch (InterruptedException e) {
                // the run ended first
            }
        }, "warm-up sample");
        t.setDaemon(true);
        t.start();
        return s;
    }

    /** The lines for --stats: the run line when checkpointing is off, and the warm-up line. */
    String format(boolean withRunLine, long hostNanos) {
        long n = machine.cpu.icount();
        StringBuilder b = new StringBuilder();
        if (withRunLine) {
            b.append(String.format(Locale.ROOT, "  run:          %,d instructions, %.3f s guest time, %.3f s host time (%.1f M instructions/s)%n",
                    n, machine.clock.toNanos(machine.clock.now()) / 1e9, hostNanos / 1e9, n / (hostNanos / 1e3)));
        }
        b.append(translationLine(machine.cpu.translationStats(), n));
        long flushes = machine.cpu.codeCacheFlushes();
        if (flushes > 0) {
            b.append(String.format(Locale.ROOT, "  code cache:   emptied %,d times for holding over %,d decoded instructions%n",
                    flushes, io.mucheckpoint.cpu.Cpu.CODE_CACHE_INSTRUCTIONS));
        }
        double sinceStart = Duration.between(processStart, Instant.now()).toNanos() / 1e9;
        long w = icountAtWarmup;
        if (w < 0) {
            b.append(String.format(Locale.ROOT, "  warm-up:      the run ended %.1f s after the process started, within the first %d s%n",
                    sinceStart, WARMUP_SECONDS));
        } else {
            b.append(String.format(Locale.ROOT, "  warm-up:      %,d instructions in the first %d s after the process started (%.1f M/s), "
                            + "%,d in the %.1f s after (%.1f M/s)%n",
                    w, WARMUP_SECONDS, w / (WARMUP_SECONDS * 1e6), n - w, sinceStart - WARMUP_SECONDS,
                    (n - w) / ((sinceStart - WARMUP_SECONDS) * 1e6)));
        }
        return b.toString();
    }

    /** What the translator did: how much of the run it covered, and what that cost. */
    static String translationLine(io.mucheckpoint.cpu.TranslationStats t, long instructions) {
        if (!t.enabled() && t.made() == 0) return "  translation:  off (--translate off): every instruction interpreted\n";
        String after = t.dueAtEnd() == t.threshold() ? String.format(Locale.ROOT, "after %d runs each", t.threshold())
                : String.format(Locale.ROOT, "after %d runs plus one per translation held, %d at the end", t.threshold(), t.dueAtEnd());
        return String.format(Locale.ROOT, "  translation:  %.1f %% of instructions ran translated; %,d blocks translated (%s),"
                        + " %,d evicted, %,d declined, %.1f KiB of bytecode held, %.0f ms translating%n",
                instructions == 0 ? 0.0 : 100.0 * t.translatedInstructions() / instructions, t.made(), after, t.evicted(),
                t.declined(), t.liveBytes() / 1024.0, t.nanosTranslating() / 1e6);
    }
}

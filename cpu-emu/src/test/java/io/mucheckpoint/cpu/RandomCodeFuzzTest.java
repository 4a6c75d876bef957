package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Random code as guest code, in every mode {@link FuzzRig} can enter: real mode, 16- and 32-bit
 * protected mode, paging, ring 3 with paging, and virtual-8086 mode, each case for a bounded number
 * of instructions. The guest may fault, triple-fault or halt; the emulator may not throw (a Java
 * exception out of {@link Cpu#run} is an emulator bug, whatever its type, and so is a {@link CpuFault}
 * that escapes undelivered), return without reason, overshoot its budget, or spin: a watchdog
 * fails the test with the offending case if one run does not return within {@link #STALL_SECONDS}.
 * One case in {@link #SPLIT_EVERY} also runs again in calls of random lengths, which must end in
 * exactly the same state (where a run is cut must not matter, design brief invariants 1 and 5).
 *
 * <p>Seeded and bounded: {@code -Dfuzz.iterations=N} (default 100,000 cases),
 * {@code -Dfuzz.seed=S}, {@code -Dfuzz.budget=I} (instructions per case, default 400),
 * {@code -Dfuzz.splitEvery=K} (one case in K is also run in pieces, default 8). Every
 * failure is printed as a {@link FuzzRig.Case} expression to paste into {@link FuzzRegressionTest}.
 * One case in {@link #TRANSLATE_EVERY} also runs with every block translated to bytecode on its first
 * execution; outcome, count and every architectural register and memory byte must equal the
 * interpreter's.
 */
class RandomCodeFuzzTest {
    static final int STALL_SECONDS = 20;
    static final int SPLIT_EVERY = 8;
    /** One case in this many also runs with every block translated on its first run (the translator's differential). */
    static final int TRANSLATE_EVERY = 50;
    private static final int MAX_REPORTED = 30;

    @Test
    void randomCodeNeverCrashesOrHangsTheEmulator() throws Exception {
        long iterations = Long.getLong("fuzz.iterations", 100_000);
        long seed = Long.getLong("fuzz.seed", 20260511L);
        long budget = Long.getLong("fuzz.budget", 400);
        long splitEvery = Long.getLong("fuzz.splitEvery", SPLIT_EVERY);
        Map<String, String> failures = new LinkedHashMap<>();
        Map<FuzzRig.Mode, int[]> stats = new EnumMap<>(FuzzRig.Mode.class);
        Map<String, Integer> outcomes = new TreeMap<>();
        AtomicReference<FuzzRig.Case> current = new AtomicReference<>();
        long[] startedAt = {System.nanoTime()};
        long[] done = {0};
        long[] instructions = {0};
        Throwable[] crash = {null};

        Thread worker = new Thread(() -> {
            FuzzRig rig = new FuzzRig();
            rig.cpu.setTranslationThreshold(-1); // the interpreter is the reference
            FuzzRig translating = new FuzzRig();
            translating.cpu.setTranslationThreshold(1);
            translating.cpu.setTranslationRegion(16); // regions too, where random code forms them
            FuzzRig.Mode[] modes = FuzzRig.Mode.values();
            try {
                for (long i = 0; i < iterations && failures.size() < MAX_REPORTED; i++) {
                    Random rnd = new Random(seed * 1_000_003L + i);
                    FuzzRig.Case c = FuzzRig.random(rnd, modes[(int) (i % modes.length)]);
                    current.set(c);
                    startedAt[0] = System.nanoTime();
                    try {
                        FuzzRig.Outcome o = rig.run(c, budget, null);
                        instructions[0] += o.icount();
                        int[] s = stats.computeIfAbsent(c.mode(), m -> new int[4]);
                        s[o.stop() == Cpu.Stop.BUDGET ? 0 : o.stop() == Cpu.Stop.SHUTDOWN ? 1 : o.exception() >= 0 ? 2 : 3]++;
                        outcomes.merge(o.exception() >= 0 ? "exception " + o.exception() : o.stop().toString(), 1, Integer::sum);
                        if (i % TRANSLATE_EVERY == 0) {
                            FuzzRig.Outcome t = translating.run(c, budget, null);
                            if (!t.equals(o)) {
                                throw new AssertionError("translated code changed the outcome:\n  interpreted: " + o + "\n  translated:  " + t);
                            }
                        }
                        if (i % splitEvery == 0) {
                            FuzzRig.Outcome split = rig.run(c, budget, new Random(i));
                            if (!split.equals(o)) {
                                throw new AssertionError("running in pieces changed the outcome:\n  whole:  " + o + "\n  pieces: " + split);
                            }
                        }
                    } catch (Throwable t) {
                        String where = signature(t);
                        failures.putIfAbsent(where, "case " + i + ": " + t + "\n    " + c.describe() + "\n    " + c.toJava()
                                + "\n    at " + stackTop(t));
                    }
                    done[0] = i + 1;
                }
            } catch (Throwable t) {
                crash[0] = t;
            }
            current.set(null);
        }, "random-code-fuzz");
        worker.setDaemon(true); // a spinning emulator must not keep the JVM alive
        long t0 = System.nanoTime();
        worker.start();
        while (worker.isAlive()) {
            worker.join(200);
            FuzzRig.Case c = current.get();
            if (c != null && System.nanoTime() - startedAt[0] > STALL_SECONDS * 1_000_000_000L) {
                StringBuilder trace = new StringBuilder();
                for (StackTraceElement e : worker.getStackTrace()) trace.append("\n      at ").append(e);
                stop(worker);
                fail("the emulator did not return within " + STALL_SECONDS + " s on case " + done[0] + ":\n    "
                        + c.describe() + "\n    " + c.toJava() + "\n    worker:" + trace);
            }
        }
        if (crash[0] != null) throw new AssertionError("the fuzzing harness itself failed", crash[0]);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("random-code fuzzing: %d cases, %d instructions in %.1f s (seed %d, budget %d)%n",
                done[0], instructions[0], secs, seed, budget);
        stats.forEach((m, s) -> System.out.printf("  %-6s budget %6d  triple fault %6d  exception %6d  halt %6d%n", m, s[0], s[1], s[2], s[3]));
        System.out.println("  outcomes: " + outcomes);
        if (!failures.isEmpty()) {
            fail(failures.size() + " distinct emulator failures (first case of each):\n" + String.join("\n", failures.values()));
        }
        assertEquals(iterations, done[0]);
        // The cases reach deep enough to mean something: each mode retires instructions and takes exceptions.
        for (FuzzRig.Mode m : FuzzRig.Mode.values()) {
            int[] s = stats.get(m);
            if (iterations >= 1000) assertTrue(s != null && s[0] > 0 && s[2] > 0, m + ": " + java.util.Arrays.toString(s));
        }
    }

    /** Stops a spinning worker so the test JVM can exit (Thread.stop is all there is for a thread in a loop). */
    @SuppressWarnings({"deprecation", "removal"})
    static void stop(Thread t) {
        try {
            t.stop();
        } catch (UnsupportedOperationException e) {
            // Newer JDKs: the thread is a daemon, the JVM exits without it.
        }
    }

    /** Failures with the same exception type and place count once. */
    private static String signature(Throwable t) {
        return t.getClass().getName() + " " + (t instanceof AssertionError ? String.valueOf(t.getMessage()).split("[:(]")[0] : stackTop(t));
    }

    private static String stackTop(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("io.mucheckpoint.cpu") && !e.getClassName().contains("Fuzz")) return e.toString();
        }
        return t.getStackTrace().length > 0 ? t.getStackTrace()[0].toString() : "?";
    }
}

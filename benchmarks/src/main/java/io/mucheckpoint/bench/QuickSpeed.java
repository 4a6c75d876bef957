package io.mucheckpoint.bench;

import io.mucheckpoint.vmm.Machine;

/**
 * A quick look at emulation speed outside JMH, for development:
 * {@code java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.QuickSpeed [workload] [size] [rounds]}.
 * The numbers that go into docs come from the JMH benchmarks.
 */
public final class QuickSpeed {
    public static void main(String[] args) {
        String workload = args.length > 0 ? args[0] : "compress";
        String size = args.length > 1 ? args[1] : "bench";
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        for (int i = 0; i < rounds; i++) {
            Machine m = GuestRun.machine(workload, "size=" + size);
            long t0 = System.nanoTime();
            long n = GuestRun.runToExit(m);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s size=%s: %,d instructions in %.3f s = %.1f M/s%n", workload, size, n, s, n / s / 1e6);
        }
    }
}

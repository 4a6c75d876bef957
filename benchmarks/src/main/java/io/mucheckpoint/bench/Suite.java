package io.mucheckpoint.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmark suite in one of two profiles and then writes the report:
 * {@code java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.Suite [quick|default] [RESULTS.json]}.
 *
 * <p>{@code default} is every benchmark with its annotated settings (under 30 minutes on 2 cores);
 * {@code quick} a subset with short iterations (under 3 minutes), for a smoke test of the numbers.
 */
public final class Suite {
    private Suite() {}

    public static void main(String[] args) throws Exception {
        String profile = args.length > 0 ? args[0] : "default";
        Path out = Paths.get(args.length > 1 ? args[1] : "benchmarks/target/results-" + profile + ".json");
        Files.createDirectories(out.toAbsolutePath().getParent());
        ChainedOptionsBuilder b = new OptionsBuilder()
                .resultFormat(ResultFormatType.JSON)
                .result(out.toString())
                .jvmArgsAppend("-Dvmm.root=" + GuestRun.guests().toAbsolutePath().getParent());
        switch (profile) {
            case "quick" -> b.include(EmulationSpeed.class.getSimpleName())
                    .include(CheckpointOverhead.class.getSimpleName())
                    .include(RollbackLatency.class.getSimpleName())
                    .include(BoundaryPause.class.getSimpleName())
                    .param("workload", "compress", "mcf", "churn")
                    .param("config", "off", "cow-50ms-history", "cow-10ms-history", "copy-50ms-none", "full-50ms-none")
                    .param("slice", "20000000")
                    .param("dirtyPages", "10", "1000")
                    .param("mode", "cow")
                    .param("predictor", "history")
                    .warmupIterations(1)
                    .measurementIterations(2)
                    .warmupTime(TimeValue.seconds(1))
                    .measurementTime(TimeValue.seconds(1));
            case "default" -> b.include(EmulationSpeed.class.getSimpleName())
                    .include(CheckpointOverhead.class.getSimpleName())
                    .include(LongEpochOverhead.class.getSimpleName())
                    .include(BoundaryPause.class.getSimpleName())
                    .include(RollbackLatency.class.getSimpleName())
                    .include(RetainedMemory.class.getSimpleName());
            default -> {
                System.err.println("usage: Suite [quick|default] [RESULTS.json]");
                System.exit(64);
            }
        }
        long t0 = System.nanoTime();
        new Runner(b.build()).run();
        System.out.printf("suite '%s' took %.1f minutes; results in %s%n", profile, (System.nanoTime() - t0) / 60e9, out);
        Report.main(new String[] {out.toString(), "--command",
                "java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.Suite " + profile});
    }
}

package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;

/**
 * The checkpoint configurations the overhead benchmark compares, by name:
 * {@code off}, {@code MODE-INTERVAL-PREDICTOR} (e.g. {@code cow-50ms-history}, {@code copy-100000000i-none})
 * and {@code cow-50ms-history-host} for the host clock.
 */
final class BenchConfig {
    private BenchConfig() {}

    static CheckpointConfig parse(String name) {
        String[] p = name.split("-");
        CheckpointConfig.Mode mode = CheckpointConfig.Mode.valueOf(p[0].toUpperCase());
        String iv = p[1];
        Interval interval = iv.endsWith("i")
                ? Interval.instructions(Long.parseLong(iv.substring(0, iv.length() - 1)))
                : Interval.millis(Long.parseLong(iv.substring(0, iv.length() - 2)));
        CheckpointConfig.PredictorKind predictor = CheckpointConfig.PredictorKind.valueOf(p[2].toUpperCase());
        boolean host = p.length > 3 && p[3].equals("host");
        long budget = mode == CheckpointConfig.Mode.COW ? 256L << 20 : 1L << 30;
        return CheckpointConfig.defaults().withMode(mode).withInterval(interval).withPredictor(predictor).withHostClock(host)
                .withMemoryBudget(budget).withKeep(mode == CheckpointConfig.Mode.FULL ? 8 : 64);
    }
}

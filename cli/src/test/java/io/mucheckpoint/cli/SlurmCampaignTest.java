package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a sharded campaign on a real Slurm. recovery/slurm/submit.sh submits a 4-task job array
 * (campaign.sbatch, one shard each) and the dependent merge job; the merged JSON must equal what one
 * unsharded {@code vmm inject --json} of the same campaign writes, but for the fields that differ by
 * nature (the command line, host time). The cluster is the one recovery/slurm/start-local.sh starts
 * (.ci/run does): without it the test is skipped with a message, and fails in CI.
 */
class SlurmCampaignTest {
    private static final int SHARDS = 4;
    /** Submission to merged result; the campaign itself takes a few seconds per shard. */
    private static final long TIMEOUT_SECONDS = 120;
    /** A small campaign over two latency bounds, so that the merge rebuilds more than one grid cell. */
    private static final List<String> CAMPAIGN = List.of("quantum", "--append", "size=test", "--faults", "12",
            "--seed", "1", "--sweep-latency", "0,200ms", "--workers", "1");

    @TempDir
    Path tmp;

    @Test
    void aFourShardArrayCampaignMergesToTheUnshardedRunsJson() throws Exception {
        Path slurmConf = runningSlurm();
        String unsharded = unshardedJson();
        Path dir = tmp.resolve("campaign");
        Submission s = submit(slurmConf, dir, vmmCommand("vmm", ""));
        assertEquals(0, s.status, "submit.sh failed:\n" + s);

        // Each array task ran its own shard: the indices in shard K's journal are those with index % 4 == K-1.
        for (int k = 1; k <= SHARDS; k++) {
            String task = Files.readString(dir.resolve("task-" + (k - 1) + ".out"));
            assertTrue(task.contains("shard " + k + "/" + SHARDS), task);
            Matcher m = Pattern.compile("\"index\":(\\d+)").matcher(Files.readString(dir.resolve("shard-" + k + ".jsonl")));
            int lines = 0;
            while (m.find()) {
                assertEquals(k - 1, Integer.parseInt(m.group(1)) % SHARDS, "shard " + k + "'s journal");
                lines++;
            }
            assertTrue(lines > 0, "shard " + k + "'s journal holds no injection");
        }
        assertEquals(comparable(unsharded), comparable(Files.readString(dir.resolve("merged.json"))));
    }

    @Test
    void aFailedShardCancelsTheMergeAndTheSameSubmissionAgainResumesTheJournals() throws Exception {
        Path slurmConf = runningSlurm();
        String unsharded = unshardedJson();
        Path dir = tmp.resolve("campaign"), once = Files.createFile(tmp.resolve("fail-once"));
        // A stand-in that fails shard 2 the first time (before it writes anything), as a lost node would.
        Path failing = vmmCommand("vmm-failing", "case \" $* \" in *\" --shard 2/" + SHARDS + " \"*) if rm " + quoted(once.toString())
                + " 2>/dev/null; then echo 'stand-in: shard 2 fails' >&2; exit 75; fi;; esac\n");
        Submission first = submit(slurmConf, dir, failing);
        assertEquals(1, first.status, first.toString());
        assertTrue(first.err.contains("ended CANCELLED (DependencyNeverSatisfied)"), first.toString());
        assertFalse(Files.exists(dir.resolve("merged.json")), first.toString());
        assertFalse(Files.exists(dir.resolve("shard-2.jsonl")), first.toString());

        Submission again = submit(slurmConf, dir, vmmCommand("vmm", ""));
        assertEquals(0, again.status, again.toString());
        for (int k = 1; k <= SHARDS; k++) {
            String task = Files.readString(dir.resolve("task-" + (k - 1) + ".out"));
            assertTrue(task.contains(k == 2 ? "shard 2/" + SHARDS + " on " : "shard " + k + "/" + SHARDS + " continues "), task);
        }
        assertEquals(comparable(unsharded), comparable(Files.readString(dir.resolve("merged.json"))));
    }

    /** The campaign run at once, in this JVM: what the Slurm campaign must give. */
    private String unshardedJson() throws IOException {
        Path json = tmp.resolve("unsharded.json");
        List<String> args = new ArrayList<>(List.of("inject"));
        args.addAll(CAMPAIGN);
        args.addAll(List.of("--journal", tmp.resolve("unsharded.jsonl").toString(), "--json", json.toString()));
        CliRun one = CliRun.of(args.toArray(String[]::new));
        assertEquals(ExitStatus.OK, one.status, one.toString());
        return Files.readString(json);
    }

    private record Submission(int status, String out, String err, String jobs) {
        @Override
        public String toString() {
            return "submit.sh status " + status + "\n--- stdout\n" + out + "--- stderr\n" + err + jobs;
        }
    }

    /** recovery/slurm/submit.sh --wait of the campaign into dir, with VMM=vmm; jobs cancelled if it does not end in time. */
    private Submission submit(Path slurmConf, Path dir, Path vmm) throws Exception {
        Path root = Path.of(System.getProperty("vmm.root", "..")).toAbsolutePath().normalize();
        Path out = tmp.resolve("submit.out"), err = tmp.resolve("submit.err");
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("recovery/slurm/submit.sh").toString(),
                "-n", Integer.toString(SHARDS), "-d", dir.toString(), "--wait", "--sbatch", "--time=10"));
        cmd.addAll(CAMPAIGN);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().put("SLURM_CONF", slurmConf.toString());
        pb.environment().put("VMM", vmm.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            String queue = queue(slurmConf);
            cancelJobs(Files.readString(out), slurmConf);
            fail("the Slurm campaign did not end within " + TIMEOUT_SECONDS + " s; queue:\n" + queue + "\n"
                    + new Submission(-1, Files.readString(out), Files.readString(err), jobOutputs(dir)));
        }
        return new Submission(p.exitValue(), Files.readString(out), Files.readString(err), jobOutputs(dir));
    }

    /**
     * The JSON without its "command" field, the one field that differs by nature (--shard, --journal
     * and --json are not the same). The JSON holds no host-time field: every other byte must agree.
     */
    static String comparable(String json) {
        String s = json.replaceFirst("^\\{\"command\":\"(?:[^\"\\\\]|\\\\.)*\",", "{");
        assertNotEquals(json, s, "no command field first: " + json);
        return s;
    }

    /**
     * The vmm command for the jobs: this JVM's own java and class path, so that the jobs run exactly
     * the classes under test (no jar to build), with the JVM options ./vmm gives (jvm.options).
     * {@code before} runs first (a stand-in's condition).
     */
    private Path vmmCommand(String name, String before) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        StringBuilder line = new StringBuilder("exec ").append(quoted(java));
        for (String option : Files.readAllLines(Path.of(System.getProperty("vmm.root", ".."), "jvm.options"))) {
            if (!option.isBlank() && !option.startsWith("#")) line.append(' ').append(quoted(option.strip()));
        }
        line.append(" -cp ").append(quoted(System.getProperty("java.class.path"))).append(' ').append(Main.class.getName())
                .append(" \"$@\"\n");
        Path vmm = tmp.resolve(name);
        Files.writeString(vmm, "#!/bin/sh\n" + before + line);
        Files.setPosixFilePermissions(vmm, PosixFilePermissions.fromString("rwxr-xr-x"));
        return vmm;
    }

    private static String quoted(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /**
     * The slurm.conf of a running cluster whose node takes jobs: $SLURM_CONF, else the one
     * start-local.sh writes. Skipped with the reason where there is none, failed in CI.
     */
    private static Path runningSlurm() throws Exception {
        String dir = System.getenv().getOrDefault("VMM_SLURM_DIR", "/var/tmp/mucheckpoint-slurm");
        Path conf = Path.of(System.getenv().getOrDefault("SLURM_CONF", dir + "/slurm.conf"));
        if (!onPath("sinfo") || !onPath("sbatch")) {
            skip("Slurm is not installed (apt-get install slurm-wlm munge, then recovery/slurm/start-local.sh; .ci/run does both)");
        }
        if (!Files.isRegularFile(conf)) skip("no Slurm configuration at " + conf + " (start one: recovery/slurm/start-local.sh)");
        ProcessBuilder pb = new ProcessBuilder("sinfo", "--noheader", "--format=%T").redirectErrorStream(true);
        pb.environment().put("SLURM_CONF", conf.toString());
        String[] answer = run(pb, 30);
        String state = answer[1].trim();
        if (!answer[0].equals("0") || !state.matches("(?s).*\\b(idle|mixed|allocated)\\b.*")) {
            skip("Slurm at " + conf + " takes no jobs (sinfo: " + (state.isEmpty() ? "status " + answer[0] : state.lines().findFirst().orElse(""))
                    + "); start it: recovery/slurm/start-local.sh");
        }
        return conf;
    }

    private static void skip(String why) {
        if ("true".equals(System.getenv("CI"))) fail(why);
        Assumptions.abort(why);
    }

    private static boolean onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
    }

    /** Status (or "timeout") and output of a short Slurm command. */
    private static String[] run(ProcessBuilder pb, int seconds) throws Exception {
        Path text = Files.createTempFile("slurm-command", ".out");
        try {
            Process p = pb.redirectOutput(text.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start();
            p.getOutputStream().close();
            String status = "timeout";
            if (p.waitFor(seconds, TimeUnit.SECONDS)) status = Integer.toString(p.exitValue());
            else p.destroyForcibly().waitFor();
            return new String[] {status, Files.readString(text)};
        } finally {
            Files.deleteIfExists(text);
        }
    }

    private static String queue(Path conf) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("squeue", "--all").redirectErrorStream(true);
        pb.environment().put("SLURM_CONF", conf.toString());
        return run(pb, 30)[1];
    }

    /** scancel the jobs submit.sh reported ("shards ID", "merge ID"), so that a failed test leaves none queued. */
    private static void cancelJobs(String submitOut, Path conf) throws Exception {
        Matcher m = Pattern.compile("(?m)^(?:shards|merge) (\\d+)$").matcher(submitOut);
        List<String> cmd = new ArrayList<>(List.of("scancel"));
        while (m.find()) cmd.add(m.group(1));
        if (cmd.size() == 1) return;
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("SLURM_CONF", conf.toString());
        run(pb, 30);
    }

    /** What every job printed, for a failure's message. */
    private static String jobOutputs(Path dir) throws IOException {
        StringBuilder b = new StringBuilder();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".out")).sorted().toList()) {
                    b.append("--- ").append(f.getFileName()).append('\n').append(Files.readString(f));
                }
            }
        }
        return b.toString();
    }
}

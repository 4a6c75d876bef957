package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** What vmm tells about a run: statistics that read right, warnings once, the trace's size, pictures, every option in --help. */
class RunReportingTest {
    @TempDir
    Path tmp;

    @Test
    void aRepeatedWarningIsShownOnceThenCounted() {
        CliRun r = CliRun.of("run", "churn", "--append", "size=test", "--checkpoint-memory", "1M");
        assertEquals(0, r.status, r.toString());
        List<String> lines = r.err.lines().toList();
        long filled = lines.stream().filter(l -> l.startsWith("vmm: checkpoint memory (1M) filled within one epoch")).count();
        assertEquals(1, filled, r.err);
        Matcher more = Pattern.compile("vmm: (\\d+) more times: checkpoint memory \\(1M\\) filled within one epoch").matcher(r.err);
        assertTrue(more.find(), r.err);
        assertTrue(Integer.parseInt(more.group(1)) > 1, r.err);
        // Warnings that differ only in their numbers are one kind too; the count line gives the last of them in full.
        long dropped = lines.stream().filter(l -> l.startsWith("vmm: the checkpoint memory budget (1M) is full")).count();
        assertTrue(dropped <= 1, r.err);
        assertTrue(lines.size() <= 6, "a handful of lines, not one per event:\n" + r.err);
    }

    @Test
    void theStatisticsSayWhatEachNumberCounts() {
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--stats");
        assertEquals(0, r.status, r.toString());
        Matcher m = Pattern.compile("checkpoints: +([0-9,]+) taken \\(the first at the start, ([0-9,]+) at epoch boundaries\\); "
                + "(\\d+) retained now, reaching back").matcher(r.err);
        assertTrue(m.find(), r.err);
        long taken = Long.parseLong(m.group(1).replace(",", ""));
        long boundaries = Long.parseLong(m.group(2).replace(",", ""));
        int retained = Integer.parseInt(m.group(3));
        assertEquals(boundaries + 1, taken, r.err);
        assertTrue(retained <= taken, "no more retained than taken: " + r.err);
        assertTrue(r.err.contains("of host time running ("), r.err);
        assertTrue(r.err.contains("the guest waited at each boundary"), r.err);
        assertTrue(r.err.matches("(?s).*\\n  collector: +the JVM's garbage collector (did not run during the run|stopped the guest \\d+ times, "
                + "\\d+ ms in all, \\d+ ms at the longest \\(.+\\))\\n.*"), r.err);
        assertTrue(r.err.matches("(?s).*prediction: .*(that saved [0-9.]+ ms of trap time|copying ahead cost [0-9.]+ ms more than the traps"
                + " it avoided).*"), r.err);
        assertFalse(r.err.contains("-0.") || r.err.contains("saved -"), "no negative savings: " + r.err);
        // Standard error is not a terminal here: no end-of-run line beyond what was asked for.
        assertFalse(r.err.contains("--stats: more"), r.err);
    }

    @Test
    void aGzipTraceIsCompressedAndItsSizeIsReported() throws Exception {
        Path gz = tmp.resolve("t.txt.gz");
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--trace", gz.toString(), "--trace-limit", "1000");
        assertEquals(0, r.status, r.toString());
        List<String> lines;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)),
                StandardCharsets.US_ASCII))) {
            lines = in.lines().toList();
        }
        assertEquals(1000, lines.size());
        assertTrue(lines.get(0).startsWith("0 EIP=") && lines.get(999).startsWith("999 EIP="), lines.get(0));
        assertTrue(r.err.contains("vmm: trace: 1,000 instructions in " + Console.bytes(Files.size(gz)) + " (gzip) to " + gz
                + "; stopped at --trace-limit 1,000\n"), r.err);
        CliRun help = CliRun.of("run", "--help");
        assertTrue(help.out.contains("(default: 1000000)"), "a smaller default trace limit: " + help.out);
    }

    @Test
    void statsPlotDrawsThePauseTimelineAndThePagesPerEpoch() throws Exception {
        Path png = tmp.resolve("stats.png");
        CliRun r = CliRun.of("run", "compress", "--append", "size=test", "--interval", "10ms", "--stats-plot", png.toString());
        assertEquals(0, r.status, r.toString());
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG");
        assertEquals(2 * io.mucheckpoint.checkpoint.chart.Chart.H, img.getHeight(), "two panels");
        assertTrue(colours(img, 0, img.getHeight()) > 3, "something is drawn");
        assertEquals(ExitStatus.USAGE, CliRun.of("run", "mcf", "--no-checkpoint", "--stats-plot", png.toString()).status);
    }

    @Test
    void injectPlotDrawsTheOutcomeSharesAndTheErrorLatency() throws Exception {
        Path png = tmp.resolve("campaign.png");
        CliRun r = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "3", "--sweep-latency", "0,10ms", "--workers", "2",
                "--plot", png.toString(), "--journal", tmp.resolve("campaign.jsonl").toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("vmm: wrote " + png), r.err);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG");
        int h = io.mucheckpoint.checkpoint.chart.Chart.H;
        assertEquals(2 * h, img.getHeight(), "two panels: the outcome shares above, the error latency below");
        assertTrue(colours(img, 0, h) > 3, "the shares are drawn");
        assertTrue(colours(img, h, 2 * h) > 2, "the latency panel is drawn (its title, axes and legend at least)");
    }

    private static int colours(BufferedImage img, int fromY, int toY) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = fromY; y < toY; y += 7) for (int x = 0; x < img.getWidth(); x += 7) seen.add(img.getRGB(x, y));
        return seen.size();
    }

    @Test
    void eachCommandsHelpListsEveryOptionItHas() throws Exception {
        CommandLine main = new CommandLine(new Main());
        CliRun top = CliRun.of("--help");
        assertTrue(top.out.contains("Run 'vmm COMMAND --help' for a command's options."), top.out);
        for (var e : main.getSubcommands().entrySet()) {
            CliRun help = CliRun.of(e.getKey(), "--help");
            assertEquals(0, help.status, help.toString());
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                if (o.hidden()) continue;
                assertTrue(help.out.contains(o.longestName()), e.getKey() + " --help misses " + o.longestName() + ":\n" + help.out);
            }
        }
        // The README sends people to each command's --help for its options (vmm --help lists the commands).
        String readme = Files.readString(Path.of(System.getProperty("vmm.root", ".."), "README.md"));
        assertTrue(readme.contains("./vmm run --help"), "the README says where every option is listed");
    }
}

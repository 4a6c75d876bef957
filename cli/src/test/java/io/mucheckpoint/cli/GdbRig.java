package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code vmm run ... --gdb tcp::0} in-process, with standard input a pipe the test types into and
 * standard output and error captured; and a real gdb, in batch mode, pointed at it.
 */
final class GdbRig implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("gdb stub listening on 127\\.0\\.0\\.1:(\\d+)");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final PipedOutputStream keys = new PipedOutputStream();
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final PrintStream oldOut = System.out, oldErr = System.err;
    private final InputStream oldIn = System.in;
    final int port;

    /** Starts {@code vmm run ARGS --gdb tcp::0} (add --gdb-wait yourself) and waits until it listens. */
    GdbRig(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("run"));
        all.addAll(List.of(args));
        all.addAll(List.of("--gdb", "tcp::0"));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setIn(new PipedInputStream(keys, 1 << 16));
        Thread t = new Thread(() -> {
            try {
                status.complete(Main.execute(all.toArray(new String[0])));
            } catch (Throwable e) {
                status.completeExceptionally(e);
            }
        }, "vmm-under-gdb");
        t.setDaemon(true);
        t.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Integer p = null;
        while (p == null && System.nanoTime() < end && !status.isDone()) {
            Matcher m = LISTENING.matcher(err());
            if (m.find()) p = Integer.parseInt(m.group(1));
            else Thread.sleep(20);
        }
        if (p == null) {
            close();
            fail("vmm did not start listening: " + this);
        }
        port = p;
    }

    /** The gdb to test with: skipped with a message where it is not installed, failed in CI. */
    static String gdb() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path g = Path.of(dir, "gdb");
            if (Files.isExecutable(g)) return g.toString();
        }
        String why = "gdb is not installed (apt-get install gdb; .ci/run installs it)";
        if ("true".equals(System.getenv("CI"))) fail(why);
        Assumptions.abort(why);
        return null;
    }

    /** Runs gdb in batch mode on {@code elf} (or none) with {@code script} after 'target remote'; returns its output. */
    String gdb(Path elf, String script, Path tmp) throws Exception {
        Path file = tmp.resolve("script-" + System.nanoTime() + ".gdb");
        Files.writeString(file, "set pagination off\nset confirm off\nset width 0\ntarget remote localhost:" + port + "\n" + script);
        List<String> cmd = new ArrayList<>(List.of(gdb(), "-batch", "-nx", "-x", file.toString()));
        if (elf != null) cmd.add(elf.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        CompletableFuture<String> text = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(reading gdb's output failed: " + e + ")";
            }
        });
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("gdb did not finish within 180 s:\n" + text.getNow("") + "\n" + this);
        }
        return text.get(10, TimeUnit.SECONDS);
    }

    /** Types {@code text} on the guest's COM1 (vmm's standard input). */
    void type(String text) throws IOException {
        keys.write(text.getBytes(StandardCharsets.ISO_8859_1));
        keys.flush();
    }

    String out() {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    String err() {
        synchronized (err) {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    /** vmm's exit status, waiting up to {@code seconds}. */
    int status(int seconds) throws Exception {
        try {
            return status.get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            fail("vmm did not end within " + seconds + " s\n" + this);
            return -1;
        }
    }

    boolean ended() {
        return status.isDone();
    }

    /** Waits until standard output holds {@code text}. */
    void awaitOut(String text, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!out().contains(text)) {
            if (System.nanoTime() > end) fail("no '" + text + "' on standard output\n" + this);
            Thread.sleep(10);
        }
    }

    @Override
    public void close() throws IOException {
        keys.close();
        System.setOut(oldOut);
        System.setErr(oldErr);
        System.setIn(oldIn);
        if (!status.isDone()) {
            // A test that failed half-way: end vmm the way a user would, with gdb's kill.
            try (RspClient c = new RspClient(port)) {
                c.raw(RspClient.frame("k"));
            } catch (IOException e) {
                // nothing listens any more
            }
            try {
                status.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // gave up
            }
        }
    }

    @Override
    public String toString() {
        return "--- vmm stdout\n" + out() + "--- vmm stderr\n" + err();
    }
}

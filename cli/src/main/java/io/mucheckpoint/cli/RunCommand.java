package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.cpu.TraceWriter;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Run a guest with COM1 on this terminal.",
                "With no guest named, runs the default bundled workload."},
        footer = {"", ExitStatus.HELP})
final class RunCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Mixin
    CheckpointOptions checkpoints;

    @Option(names = "--stats", description = "Print a summary of checkpointing to standard error at exit.")
    boolean stats;

    @Option(names = "--stats-json", paramLabel = "FILE", description = "Write checkpoint statistics as JSON to FILE at exit.")
    Path statsJson;

    @Option(names = "--exit-code", paramLabel = "native|qemu", defaultValue = "native",
            description = "How a guest's isa-debug-exit value v becomes vmm's status: native v, or qemu (v << 1) | 1 (default: ${DEFAULT-VALUE}).")
    String exitCode;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write one line per instruction (registers before it runs) in shared/tools/qemu-trace's format.")
    Path trace;

    @Option(names = "--trace-limit", paramLabel = "N", defaultValue = "10000000",
            description = "Stop tracing after N instructions (default: ${DEFAULT-VALUE}).")
    long traceLimit;

    @Option(names = "--restore", paramLabel = "FILE",
            description = "Resume a machine saved in a snapshot file (the guest options are taken from the file).")
    Path restore;

    @Option(names = "--save-at", paramLabel = "N",
            description = "When the guest has retired N instructions, write a snapshot to the --save file and go on.")
    Long saveAt;

    @Option(names = "--save", paramLabel = "FILE", description = "Where --save-at writes its snapshot.")
    Path saveFile;

    @Override
    public Integer call() throws Exception {
        if (!exitCode.equals("native") && !exitCode.equals("qemu")) {
            throw new VmmException(ExitStatus.USAGE, "--exit-code takes native or qemu, not '" + exitCode + "'");
        }
        if ((saveAt == null) != (saveFile == null)) throw new VmmException(ExitStatus.USAGE, "--save-at and --save go together");
        HostOutput out = new HostOutput(System.out);
        Machine machine = restore != null ? Snapshots.restore(restore, guest, out) : boot(out);
        Writer traceOut = null;
        if (trace != null) {
            traceOut = new BufferedWriter(Files.newBufferedWriter(trace, StandardCharsets.US_ASCII), 1 << 16);
            machine.cpu.setTracer(new TraceWriter(traceOut, traceLimit));
        }
        CheckpointEngine engine = null;
        if (!checkpoints.off) {
            try {
                engine = new CheckpointEngine(machine, checkpoints.config());
            } catch (IllegalArgumentException e) {
                throw new VmmException(ExitStatus.USAGE, e.getMessage());
            }
            engine.start();
        } else if (stats || statsJson != null) {
            throw new VmmException(ExitStatus.USAGE, "--stats needs checkpointing (drop --no-checkpoint)");
        }
        Thread input = startInputPump(machine);
        long t0 = System.nanoTime();
        try {
            return runToEnd(machine, engine, out);
        } finally {
            out.flush();
            if (traceOut != null) traceOut.close();
            if (input != null) input.interrupt();
            if (engine != null) report(engine, machine, System.nanoTime() - t0);
        }
    }

    private Machine boot(HostOutput out) {
        MachineConfig config = MachineConfig.defaults().withRam(guest.ramBytes()).withTicksPerSecond(guest.ticksPerSecond())
                .withReboot(guest.reboot);
        try {
            return new Machine(config, guest.image(), out, out);
        } catch (LoadException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        }
    }

    private void report(CheckpointEngine engine, Machine machine, long hostNanos) throws IOException {
        EngineStats s = engine.stats();
        if (statsJson != null) Files.writeString(statsJson, s.toJson() + "\n");
        if (stats) System.err.print(StatsSummary.format(s, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now()), hostNanos));
    }

    private int runToEnd(Machine machine, CheckpointEngine engine, HostOutput out) throws InterruptedException, IOException {
        while (true) {
            long limit = saveAt != null && machine.cpu.icount() < saveAt ? saveAt : Long.MAX_VALUE;
            RunResult r = engine != null ? engine.run(Long.MAX_VALUE, limit) : machine.run(Long.MAX_VALUE, limit);
            if (saveAt != null && machine.cpu.icount() == saveAt && limit == saveAt) {
                out.flush();
                SnapshotFile.save(machine, saveFile);
                System.err.println("vmm: saved a snapshot at instruction " + saveAt + " to " + saveFile);
            }
            switch (r.kind()) {
                case EXIT:
                    return exitCode.equals("qemu") ? ((r.exitStatus() << 1) | 1) & 0xFF : r.exitStatus() & 0xFF;
                case IDLE:
                    out.flush();
                    if (stdinClosed) {
                        System.err.println("vmm: " + r.message() + ", and there is no more input");
                        return ExitStatus.GUEST_CRASH;
                    }
                    Thread.sleep(5);
                    break;
                case LIMIT:
                case PAUSED:
                    break;
                default:
                    out.flush();
                    System.err.println("vmm: " + r.message());
                    return ExitStatus.GUEST_CRASH;
            }
        }
    }

    private volatile boolean stdinClosed;

    /** Feeds standard input to COM1 (a pipe or a terminal in line mode). */
    private Thread startInputPump(Machine machine) {
        Thread t = new Thread(() -> {
            InputStream in = System.in;
            try {
                int b;
                while ((b = in.read()) >= 0) machine.offerInput(b);
            } catch (IOException e) {
                // treated as end of input
            }
            stdinClosed = true;
        }, "stdin-to-com1");
        t.setDaemon(true);
        t.start();
        return t;
    }
}

package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.checkpoint.CheckpointUnreachableException;
import io.mucheckpoint.checkpoint.NoSuchCheckpointException;
import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.Disassembler;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gdb connection: the remote serial protocol's commands, as gdb speaks them to QEMU, over a
 * {@link DebugSession}. All-stop, one thread (thread id 1). Reverse execution (bs, bc) is
 * {@link TimeTravel}'s; breakpoints and watchpoints are the processor's own checks, so no guest
 * byte is patched. A malformed packet gets an error reply and the connection goes on.
 */
final class GdbStub implements RunHooks {
    private static final Logger log = LoggerFactory.getLogger(GdbStub.class);
    /** What a stop reply names the thread as. */
    private static final String THREAD = "thread:1;";
    /** Console commands that may run from gdb's monitor; the others would fight gdb for control of the guest. */
    static final Set<String> MONITOR_COMMANDS = Set.of("checkpoints", "cps", "checkpoint", "cp", "rollback", "diff", "inject",
            "recover", "stats", "set", "status", "regs", "r", "mem", "x", "disasm", "dis", "output", "save", "help", "h", "?");
    /** Longest range step (vCont;r) before the stub reports where the guest is anyway. */
    private static final int RANGE_STEP_LIMIT = 1_000_000;

    private final DebugSession session;
    private final PacketChannel channel;
    private final GdbServer.Policy policy;
    private final Breakpoints breakpoints = new Breakpoints();
    private final Watchpoints watches;
    private final TimeTravel travel;
    private volatile boolean interrupted;
    private boolean swbreak;
    private boolean hwbreak;
    private boolean killed;

    GdbStub(DebugSession session, java.io.InputStream in, java.io.OutputStream out, GdbServer.Policy policy) {
        this.session = session;
        this.policy = policy;
        this.watches = new Watchpoints(() -> session.machine().yieldRun(), () -> session.machine().cpu.icount());
        this.travel = new TimeTravel(session, breakpoints, watches);
        this.channel = new PacketChannel(in, out, () -> {
            interrupted = true;
            travel.interrupt();
        }, "gdb-reader");
    }

    // --- RunHooks (guest thread) ---------------------------------------------------------------

    @Override
    public int[] breakpoints() {
        return breakpoints.addresses();
    }

    @Override
    public long sliceEnd(long icount) {
        return travel.sliceEnd(icount);
    }

    @Override
    public String stopReason() {
        Watchpoints.Hit h = watches.hit();
        return h == null ? null : String.format("gdb %s watchpoint at 0x%08x hit", h.kind().name().toLowerCase(Locale.ROOT), h.addr());
    }

    @Override
    public void resuming() {
        watches.clearHit();
        travel.beforeForward();
    }

    @Override
    public boolean holdLiveInput() {
        return travel.inPast();
    }

    @Override
    public void sliceEnded() {
        travel.forwardSliceEnded();
    }

    // --- the connection -------------------------------------------------------------------------

    /** Serves gdb until it detaches, kills or goes away. */
    void serve() {
        try {
            pauseGuest();
            session.call(() -> {
                session.attach(this);
                travel.forwardSliceEnded();
                return null;
            });
            loop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            detach();
            channel.close();
        }
    }

    boolean killed() {
        return killed;
    }

    /** Ends the connection from our side (vmm is shutting down). */
    void close() {
        channel.close();
    }

    private void loop() throws InterruptedException {
        while (true) {
            PacketChannel.Event e = channel.next(1000);
            if (e == null || e instanceof PacketChannel.Interrupt) continue; // ^C while stopped: nothing to stop
            if (e instanceof PacketChannel.Closed) return;
            try {
                if (e instanceof PacketChannel.TooLong) {
                    channel.send("E01");
                    continue;
                }
                byte[] data = ((PacketChannel.Packet) e).data();
                String reply = handle(data);
                if (reply != null) channel.send(reply);
                if (killed || detaching) return;
            } catch (IOException x) {
                log.debug("gdb connection lost: {}", x.getMessage());
                return;
            }
        }
    }

    private boolean detaching;

    private void pauseGuest() throws InterruptedException {
        session.pause();
        session.awaitStop(10_000);
    }

    private void detach() {
        try {
            session.call(() -> {
                breakpoints.clear();
                watches.clear();
                session.machine().cpu.setDataWatch(null);
                session.attach(null);
                travel.close();
                if (policy.resumeOnDetach() && !killed && session.finished() == null && !session.running()) session.resume();
                return null;
            });
        } catch (RuntimeException e) {
            log.debug("detaching from the guest failed", e);
        }
    }

    // --- commands --------------------------------------------------------------------------------

    /** The reply to one packet, or null for none. */
    String handle(byte[] data) throws IOException, InterruptedException {
        String p = new String(data, StandardCharsets.ISO_8859_1);
        if (p.isEmpty()) return "";
        try {
            return switch (p.charAt(0)) {
                case '?' -> session.call(this::stopReply);
                case 'g' -> session.call(() -> HexFormat.of().formatHex(I386Registers.readAll(session.machine().cpu)));
                case 'G' -> writeAllRegisters(p.substring(1));
                case 'p' -> readRegister(p.substring(1));
                case 'P' -> writeRegister(p.substring(1));
                case 'm' -> readMemory(p.substring(1));
                case 'M' -> writeMemory(p.substring(1), false, data);
                case 'X' -> writeMemory(p.substring(1), true, data);
                case 'c', 'C' -> resumeAndWait();
                case 's', 'S' -> step();
                case 'Z', 'z' -> breakOrWatch(p);
                case 'H', 'T' -> "OK";
                case 'D' -> {
                    detaching = true;
                    yield "OK";
                }
                case 'k' -> {
                    kill();
                    yield null;
                }
                case 'b' -> reverse(p);
                case 'q', 'Q' -> query(p);
                case 'v' -> verbose(p);
                default -> "";
            };
        } catch (Malformed | NumberFormatException | IndexOutOfBoundsException e) {
            log.debug("malformed gdb packet {}: {}", p.length() > 60 ? p.substring(0, 60) + "..." : p, e.toString());
            return "E01";
        }
    }

    /** A packet whose arguments do not parse. */
    private static final class Malformed extends RuntimeException {
        Malformed(String what) {
            super(what, null, false, false);
        }
    }

    private String query(String p) throws IOException {
        if (p.startsWith("qSupported")) {
            swbreak = p.contains("swbreak+");
            hwbreak = p.contains("hwbreak+");
            boolean reverse = session.call(travel::available);
            return "PacketSize=4000;qXfer:features:read+;QStartNoAckMode+" + (swbreak ? ";swbreak+" : "") + (hwbreak ? ";hwbreak+" : "")
                    + (reverse ? ";ReverseStep+;ReverseContinue+" : "");
        }
        if (p.equals("QStartNoAckMode")) {
            channel.send("OK");
            channel.noAckMode();
            return null;
        }
        if (p.startsWith("qXfer:features:read:")) return targetDescription(p.substring("qXfer:features:read:".length()));
        if (p.equals("qC")) return "QC1";
        if (p.equals("qfThreadInfo")) return "m1";
        if (p.equals("qsThreadInfo")) return "l";
        if (p.equals("qAttached") || p.startsWith("qAttached:")) return "1";
        if (p.equals("qOffsets")) return "Text=0;Data=0;Bss=0";
        if (p.startsWith("qSymbol")) return "OK";
        if (p.startsWith("qRcmd,")) return monitor(p.substring("qRcmd,".length()));
        return "";
    }

    private String verbose(String p) throws IOException, InterruptedException {
        if (p.equals("vMustReplyEmpty")) return "";
        if (p.equals("vCont?")) return "vCont;c;C;s;S;r";
        if (p.startsWith("vKill")) {
            kill();
            return "OK";
        }
        if (p.startsWith("vCont;")) return vCont(p.substring("vCont;".length()));
        return "";
    }

    /** The first action that applies to our one thread (or to all threads) decides. */
    private String vCont(String actions) throws IOException, InterruptedException {
        for (String a : actions.split(";")) {
            int colon = a.indexOf(':');
            String thread = colon < 0 ? null : a.substring(colon + 1);
            if (thread != null && !thread.equals("-1") && !thread.equals("1") && !thread.equals("p1.1") && !thread.equals("p1.-1")) continue;
            String act = colon < 0 ? a : a.substring(0, colon);
            if (act.isEmpty()) throw new Malformed("empty vCont action");
            switch (act.charAt(0)) {
                case 'c', 'C':
                    return resumeAndWait();
                case 's', 'S':
                    return step();
                case 'r': {
                    String[] range = act.substring(1).split(",");
                    if (range.length != 2) throw new Malformed("vCont;r takes START,END");
                    return rangeStep((int) Long.parseLong(range[0], 16), (int) Long.parseLong(range[1], 16));
                }
                default:
                    return "E01";
            }
        }
        return "E01";
    }

    private void kill() {
        killed = true;
        if (policy.onKill() != null) policy.onKill().run();
    }

    // --- stop replies ------------------------------------------------------------------------------

    /** Why the guest is stopped now, as a stop reply (guest thread). */
    private String stopReply() {
        RunResult f = session.finished();
        if (f != null) return finishReply(f);
        Watchpoints.Hit h = watches.hit();
        if (h != null) return watchReply(h);
        if (session.stoppedAtBreakpoint()) {
            String why = breakpoints.reason(session.machine().cpu.linearEip());
            if (why != null) return "T05" + breakReason(why) + THREAD;
        }
        return "T05" + THREAD;
    }

    private static String finishReply(RunResult f) {
        if (f.kind() == RunResult.Kind.EXIT) return String.format("W%02x", f.exitStatus() & 0xFF);
        return "T0b" + THREAD; // a crash (triple fault, dead halt, unrecoverable error) shows as SIGSEGV; the machine stays there
    }

    private static String watchReply(Watchpoints.Hit h) {
        return String.format("T05%s:%x;%s", h.kind().reply, h.addr() & 0xFFFFFFFFL, THREAD);
    }

    private String breakReason(String why) {
        if (why.equals("swbreak") && swbreak) return "swbreak:;";
        if (why.equals("hwbreak") && hwbreak) return "hwbreak:;";
        return "";
    }

    // --- running -----------------------------------------------------------------------------------

    private String resumeAndWait() throws InterruptedException, IOException {
        interrupted = false;
        String early = session.call(() -> {
            RunResult f = session.finished();
            if (f != null) return finishReply(f);
            session.resume();
            return null;
        });
        if (early != null) return early;
        boolean paused = false;
        while (session.running()) {
            PacketChannel.Event e = channel.next(20);
            if ((e instanceof PacketChannel.Interrupt || interrupted) && !paused) {
                paused = true;
                session.pause();
            } else if (e instanceof PacketChannel.Closed) {
                if (!policy.resumeOnDetach()) session.pause();
                throw new IOException("gdb went away while the guest ran");
            } else if (e instanceof PacketChannel.Packet pk) {
                log.debug("gdb sent {} while the guest ran; ignored (all-stop mode)", pk.text());
            }
        }
        boolean byInterrupt = paused;
        return session.call(() -> {
            String r = stopReply();
            if (session.finished() == null) travel.stoppedForward();
            return byInterrupt && r.equals("T05" + THREAD) ? "T02" + THREAD : r;
        });
    }

    private String step() {
        interrupted = false;
        return session.call(() -> {
            RunResult f = session.finished();
            if (f != null) return finishReply(f);
            RunResult r = session.step();
            if (r != null && r.finished()) return finishReply(r);
            travel.stoppedForward();
            Watchpoints.Hit h = watches.hit();
            return h != null ? watchReply(h) : "T05" + THREAD;
        });
    }

    /** vCont;r: step while the PC stays in [start, end), stopping early at a breakpoint, a watchpoint or Ctrl-C. */
    private String rangeStep(int start, int end) {
        interrupted = false;
        return session.call(() -> {
            RunResult f = session.finished();
            if (f != null) return finishReply(f);
            Cpu cpu = session.machine().cpu;
            String reply = "T05" + THREAD;
            for (int n = 0; n < RANGE_STEP_LIMIT; n++) {
                RunResult r = session.step();
                if (r != null && r.finished()) return finishReply(r);
                travel.forwardSliceEnded();
                Watchpoints.Hit h = watches.hit();
                if (h != null) {
                    reply = watchReply(h);
                    break;
                }
                int pc = cpu.linearEip();
                String why = breakpoints.reason(pc);
                if (why != null) {
                    reply = "T05" + breakReason(why) + THREAD;
                    break;
                }
                if (interrupted) {
                    reply = "T02" + THREAD;
                    break;
                }
                if (Integer.compareUnsigned(pc, start) < 0 || Integer.compareUnsigned(pc, end) >= 0) break;
            }
            travel.stoppedForward();
            return reply;
        });
    }

    private String reverse(String p) {
        if (!p.equals("bs") && !p.equals("bc")) return "";
        interrupted = false;
        return session.call(() -> {
            if (!travel.available()) return "E.reverse execution needs checkpoints: vmm was started with --no-checkpoint";
            try {
                TimeTravel.Landing l = p.equals("bs") ? travel.reverseStep() : travel.reverseContinue();
                return switch (l.kind()) {
                    case STEP -> "T05" + THREAD;
                    case BREAKPOINT -> {
                        String why = breakpoints.reason(session.machine().cpu.linearEip());
                        yield "T05" + (why == null ? "" : breakReason(why)) + THREAD;
                    }
                    case WATCH -> watchReply(l.watch());
                    case BEGIN -> "T05replaylog:begin;" + THREAD;
                    case INTERRUPTED -> "T02" + THREAD;
                };
            } catch (CheckpointUnreachableException | NoSuchCheckpointException e) {
                return "E." + e.getMessage();
            }
        });
    }

    // --- registers and memory ------------------------------------------------------------------------

    private String readRegister(String arg) {
        int n = Integer.parseInt(arg, 16);
        if (n < 0 || n >= I386Registers.COUNT) return "E00";
        return session.call(() -> HexFormat.of().formatHex(I386Registers.read(session.machine().cpu, n)));
    }

    private String writeRegister(String arg) {
        int eq = arg.indexOf('=');
        if (eq < 0) throw new Malformed("P takes N=VALUE");
        int n = Integer.parseInt(arg.substring(0, eq), 16);
        byte[] v = HexFormat.of().parseHex(arg.substring(eq + 1));
        if (n < 0 || n >= I386Registers.COUNT || v.length != I386Registers.size(n)) return "E00";
        return session.call(() -> {
            try {
                if (I386Registers.write(session.machine().cpu, n, v)) travel.wrote();
                return "OK";
            } catch (IllegalArgumentException e) {
                return "E.writing register " + n + ": " + e.getMessage();
            }
        });
    }

    private String writeAllRegisters(String hex) {
        byte[] all = HexFormat.of().parseHex(hex);
        return session.call(() -> {
            Cpu cpu = session.machine().cpu;
            boolean changed = false;
            int off = 0;
            try {
                for (int n = 0; n < I386Registers.COUNT && off < all.length; n++) {
                    int size = I386Registers.size(n);
                    if (off + size > all.length) return "E01";
                    byte[] v = java.util.Arrays.copyOfRange(all, off, off + size);
                    off += size;
                    changed |= I386Registers.write(cpu, n, v);
                }
            } catch (IllegalArgumentException e) {
                return "E." + e.getMessage();
            } finally {
                if (changed) travel.wrote();
            }
            return "OK";
        });
    }

    private record Range(int addr, int len) {}

    private static Range range(String arg) {
        int comma = arg.indexOf(',');
        if (comma < 0) throw new Malformed("ADDR,LENGTH expected");
        int end = arg.indexOf(':', comma);
        long addr = Long.parseUnsignedLong(arg.substring(0, comma), 16);
        long len = Long.parseLong(arg.substring(comma + 1, end < 0 ? arg.length() : end), 16);
        if (addr > 0xFFFFFFFFL || len < 0 || len > PacketChannel.MAX_PACKET) throw new Malformed("address or length out of range");
        return new Range((int) addr, (int) len);
    }

    private String readMemory(String arg) {
        Range r = range(arg);
        int len = Math.min(r.len(), 0x2000);
        return session.call(() -> {
            Cpu cpu = session.machine().cpu;
            StringBuilder b = new StringBuilder(len * 2);
            for (int i = 0; i < len; i++) {
                int v = Disassembler.peek(cpu, r.addr() + i);
                if (v < 0) break;
                b.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 15, 16));
            }
            return b.length() == 0 && len > 0 ? "E14" : b.toString();
        });
    }

    /** M (hex) and X (binary): every byte's page must be mapped RAM, or nothing is written. */
    private String writeMemory(String arg, boolean binary, byte[] raw) {
        Range r = range(arg);
        int colon = arg.indexOf(':');
        if (colon < 0) throw new Malformed("no data");
        byte[] bytes;
        if (binary) {
            int start = raw.length - (arg.length() - colon - 1);
            bytes = unescape(raw, start);
        } else {
            bytes = HexFormat.of().parseHex(arg.substring(colon + 1));
        }
        if (bytes.length != r.len()) return "E01";
        if (bytes.length == 0) return "OK";
        return session.call(() -> {
            Machine m = session.machine();
            long[] phys = new long[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                phys[i] = m.cpu.linearToPhysical(r.addr() + i);
                if (phys[i] < 0 || phys[i] >= m.memory.ramSize()) return "E14";
            }
            int i = 0;
            while (i < bytes.length) {
                int j = i + 1;
                while (j < bytes.length && phys[j] == phys[j - 1] + 1 && (phys[j] & 0xFFF) != 0) j++;
                m.memory.writeBytes(phys[i], bytes, i, j - i);
                i = j;
            }
            travel.wrote();
            return "OK";
        });
    }

    private static byte[] unescape(byte[] raw, int start) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length - start);
        for (int i = start; i < raw.length; i++) {
            int b = raw[i] & 0xFF;
            if (b == '}' && i + 1 < raw.length) b = (raw[++i] & 0xFF) ^ 0x20;
            out.write(b);
        }
        return out.toByteArray();
    }

    // --- breakpoints and watchpoints --------------------------------------------------------------------

    private String breakOrWatch(String p) {
        boolean insert = p.charAt(0) == 'Z';
        String[] f = p.substring(1).split("[,;]");
        if (f.length < 3) throw new Malformed("Z/z takes TYPE,ADDR,KIND");
        int type = Integer.parseInt(f[0]);
        long addr = Long.parseUnsignedLong(f[1], 16);
        int kind = Integer.parseInt(f[2], 16);
        if (addr > 0xFFFFFFFFL) throw new Malformed("address out of range");
        if (type < 0 || type > 4) return "";
        if (type >= 2 && (kind < 1 || kind > 0x10000)) return "E01";
        return session.call(() -> {
            if (type <= 1) {
                if (insert) breakpoints.add(type == 1, (int) addr);
                else breakpoints.remove(type == 1, (int) addr);
                session.breakpointsChanged();
            } else {
                Watchpoints.Kind k = Watchpoints.Kind.ofZ(type);
                if (insert) watches.add(k, (int) addr, kind);
                else watches.remove(k, (int) addr, kind);
                session.machine().cpu.setDataWatch(watches.isEmpty() ? null : watches);
            }
            return "OK";
        });
    }

    // --- the target description and the monitor ---------------------------------------------------------

    private static String targetDescription(String arg) {
        int colon = arg.indexOf(':');
        if (colon < 0) throw new Malformed("qXfer:features:read takes ANNEX:OFFSET,LENGTH");
        String annex = arg.substring(0, colon);
        if (!annex.equals("target.xml")) return "E00";
        Range r = range(arg.substring(colon + 1));
        String xml = I386Registers.TARGET_XML;
        int off = r.addr();
        if (off < 0 || off > xml.length()) return "E00";
        int end = Math.min(xml.length(), off + Math.min(r.len(), 0x3F00));
        return (end < xml.length() ? "m" : "l") + escape(xml.substring(off, end));
    }

    /** Binary replies escape $, #, } and * (the run-length marker). */
    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '$' || c == '#' || c == '}' || c == '*') b.append('}').append((char) (c ^ 0x20));
            else b.append(c);
        }
        return b.toString();
    }

    /**
     * qRcmd: a console command (monitor checkpoints, rollback N, inject ..., stats), its output sent
     * as console output packets. A flip made by inject is a write to the guest: the timeline forks there.
     */
    private String monitor(String hex) throws IOException {
        String line = new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8).strip();
        String word = line.isEmpty() ? "help" : line.split("\\s+")[0].toLowerCase(Locale.ROOT);
        String out;
        if (word.equals("help") || word.equals("h") || word.equals("?")) {
            out = "monitor commands are the console's (vmm console, 'help COMMAND' there tells more):\n"
                    + "  checkpoints, checkpoint, rollback ID|-N|@TIME, diff ID, inject TARGET [ADDR] [BIT], recover,\n"
                    + "  stats, set [SETTING VALUE], status, regs, mem ADDR [LEN], disasm [ADDR] [N], output FILE, save FILE\n"
                    + "After rollback, inject, recover or set, gdb's cached registers are stale: 'maint flush register-cache'.\n";
        } else if (!MONITOR_COMMANDS.contains(word)) {
            out = "error: '" + word + "' is not a monitor command here (gdb runs, steps and breaks the guest itself); 'monitor help' lists them\n";
        } else {
            out = session.monitor(line);
            if (word.equals("inject") && !out.startsWith("error")) session.call(() -> {
                travel.wrote();
                return null;
            });
            if (word.equals("stats")) out = out + session.call(travel::stats) + "\n";
        }
        if (!out.endsWith("\n")) out += "\n";
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += 1000) {
            channel.send("O" + HexFormat.of().formatHex(bytes, i, Math.min(bytes.length, i + 1000)));
        }
        return "OK";
    }
}

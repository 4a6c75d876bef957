package io.mucheckpoint.vmm;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.vmm.clock.IdlePacer;
import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.dev.Clocked;
import io.mucheckpoint.vmm.dev.CmosRtc;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.dev.DebugConsole;
import io.mucheckpoint.vmm.dev.DebugExit;
import io.mucheckpoint.vmm.dev.GuestServicesListener;
import io.mucheckpoint.vmm.dev.GuestServicesPort;
import io.mucheckpoint.vmm.dev.IoPortBus;
import io.mucheckpoint.vmm.dev.Keyboard8042;
import io.mucheckpoint.vmm.dev.MachineControl;
import io.mucheckpoint.vmm.dev.PciBus;
import io.mucheckpoint.vmm.dev.PciFunction;
import io.mucheckpoint.vmm.dev.Pic8259Pair;
import io.mucheckpoint.vmm.dev.Pit8254;
import io.mucheckpoint.vmm.dev.Port92;
import io.mucheckpoint.vmm.dev.PostCodePort;
import io.mucheckpoint.vmm.dev.SystemControlPortB;
import io.mucheckpoint.vmm.dev.Uart16550;
import io.mucheckpoint.vmm.dev.VirtioBlk;
import io.mucheckpoint.vmm.disk.DiskImage;
import io.mucheckpoint.vmm.disk.DiskOverlay;
import io.mucheckpoint.vmm.disk.DriveConfig;
import io.mucheckpoint.vmm.load.LinuxLoader;
import io.mucheckpoint.vmm.load.LoadException;
import io.mucheckpoint.vmm.load.MultibootLoader;
import io.mucheckpoint.vmm.mem.GuestMemory;
import io.mucheckpoint.vmm.state.Persistent;
import io.mucheckpoint.vmm.state.StateCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PC around the processor: guest memory, the devices on the I/O bus, the virtual clock, the
 * loaded image, and the run loop that moves them forward together.
 *
 * <p>The run loop runs the CPU exactly up to the next device deadline, then lets the due devices
 * act; a halted CPU with interrupts on skips the clock to the next deadline. Everything happens on
 * the thread that calls {@link #run}; other threads may only {@link #requestPause} and
 * {@link #offerInput}.
 */
public final class Machine implements MachineControl {
    private static final Logger log = LoggerFactory.getLogger(Machine.class);
    /** Longest stretch run without looking at pause requests and host input. */
    private static final long SLICE = 1_000_000;

    private final MachineConfig config;
    private final GuestImage image;
    public final GuestMemory memory;
    public final Cpu cpu;
    public final VirtualClock clock;
    private IdlePacer idlePacer;
    public final IoPortBus io = new IoPortBus();
    public final Pic8259Pair pic;
    public final Pit8254 pit;
    public final CmosRtc rtc;
    public final Uart16550 com1;
    public final Keyboard8042 kbc;
    public final Port92 port92;
    public final PostCodePort post;
    public final SystemControlPortB portB;
    public final PciBus pci;
    /** The virtio-blk drives, in --drive order (PCI slots 1, 2, ...). */
    public final List<VirtioBlk> drives = new ArrayList<>();
    private final List<Component<?>> components = new ArrayList<>();
    private final List<Clocked> clocked = new ArrayList<>();
    private final List<GuestServicesListener> serviceListeners = new CopyOnWriteArrayList<>();
    private final List<InputListener> inputListeners = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Integer> input = new ConcurrentLinkedQueue<>();
    private final List<byte[]> initialDeviceStates;

    private boolean a20 = true;
    /** The tick at which the CPU's current {@link Cpu#run} stops; MIN_VALUE when it is not running. */
    private long runEndTicks = Long.MIN_VALUE;
    private Integer exitStatus;
    private boolean resetRequested;
    private volatile boolean pauseRequested;
    private boolean yieldRequested;
    private boolean inputHeld;
    private int reboots;

    /** Hears every host byte at the moment it reaches the guest's UART (for the input log). */
    @FunctionalInterface
    public interface InputListener {
        /** Byte {@code b} reached the UART after {@code icount} instructions, at guest time {@code ticks}. */
        void delivered(long icount, long ticks, int b);
    }

    /** One device's save/restore, typed by its state record. */
    private record Component<S extends Record>(String name, Class<S> type, Persistent<S> device) {
        byte[] save() {
            return StateCodec.encode(device.save());
        }

        void restore(byte[] b) {
            device.restore(StateCodec.decode(type, b));
        }
    }

    public Machine(MachineConfig config, GuestImage image, ConsoleSink serial, ConsoleSink debugConsole)
            throws LoadException {
        this.config = config;
        this.image = image;
        byte[] rom = image instanceof GuestImage.Bios b ? checkRom(b)
                : image instanceof GuestImage.Restored r ? r.rom() : null;
        this.memory = new GuestMemory(config.ramBytes(), rom);
        // Port accesses go through a check: one may bring a device deadline forward into the stretch
        // the CPU is running (the guest programming the PIT), and the run must then stop there.
        this.cpu = new Cpu(memory, new io.mucheckpoint.cpu.IoBus() {
            @Override
            public int in(int port, int size) {
                int v = io.in(port, size);
                deadlineMayHaveMoved();
                return v;
            }

            @Override
            public void out(int port, int size, int value) {
                io.out(port, size, value);
                deadlineMayHaveMoved();
            }
        });
        this.clock = new VirtualClock(config.ticksPerSecond(), cpu::icount);
        cpu.setTimeSource(clock::now);
        this.pic = new Pic8259Pair(cpu::setInterruptLine);
        cpu.setInterruptController(pic);
        this.pit = new Pit8254(clock, pic);
        this.rtc = new CmosRtc(clock, pic, config.rtcStart());
        rtc.setMemorySize(config.ramBytes());
        this.com1 = Uart16550.com1(pic, serial);
        this.kbc = new Keyboard8042(pic, this);
        this.port92 = new Port92(this);
        this.post = new PostCodePort();
        this.portB = new SystemControlPortB(pit);
        this.pci = new PciBus(io);
        pci.plug(0, new PciFunction(HOST_BRIDGE, null));
        openDrives();
        pic.attachTo(io);
        pit.attachTo(io);
        portB.attachTo(io);
        rtc.attachTo(io);
        com1.attachTo(io);
        kbc.attachTo(io);
        port92.attachTo(io);
        post.attachTo(io);
        pci.attachTo(io);
        new DebugConsole(debugConsole).attachTo(io);
        new DebugExit(this).attachTo(io);
        new GuestServicesPort(new GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                for (GuestServicesListener l : serviceListeners) l.heartbeat(value);
            }

            @Override
            public void exceptionReported(int vector) {
                for (GuestServicesListener l : serviceListeners) l.exceptionReported(vector);
            }

            @Override
            public void selfCheckFailed(int id) {
                for (GuestServicesListener l : serviceListeners) l.selfCheckFailed(id);
            }
        }).attachTo(io);
        components.add(new Component<>("pic", Pic8259Pair.State.class, pic));
        components.add(new Component<>("pit", Pit8254.State.class, pit));
        components.add(new Component<>("portB", SystemControlPortB.State.class, portB));
        components.add(new Component<>("rtc", CmosRtc.State.class, rtc));
        components.add(new Component<>("com1", Uart16550.State.class, com1));
        components.add(new Component<>("kbc", Keyboard8042.State.class, kbc));
        components.add(new Component<>("port92", Port92.State.class, port92));
        components.add(new Component<>("post", PostCodePort.State.class, post));
        components.add(new Component<>("pci", PciBus.State.class, pci));
        for (int i = 0; i < drives.size(); i++) components.add(new Component<>("vblk" + i, VirtioBlk.State.class, drives.get(i)));
        clocked.add(pit);
        clocked.add(rtc);
        clocked.addAll(drives);
        initialDeviceStates = new ArrayList<>();
        for (Component<?> c : components) initialDeviceStates.add(c.save());
        boot();
    }

    /** The i440FX host bridge at 00:00.0, as QEMU's pc machine has it (Linux looks for a host bridge before trusting mechanism #1). */
    private static final PciFunction.Identity HOST_BRIDGE =
            new PciFunction.Identity("host bridge", 0x8086, 0x1237, 0x060000, 2, 0x1AF4, 0x1100, 0, 0, 0, 0);
    /** Where drive i's BAR and interrupt are, as firmware would have assigned them. */
    private static final int DRIVE_IO_BASE = 0xC000;
    private static final int[] DRIVE_IRQ = {11, 10, 11, 10};

    private void openDrives() throws LoadException {
        List<DriveConfig> cfg = config.drives();
        List<DiskImage> opened = new ArrayList<>();
        try {
            for (DriveConfig d : cfg) opened.add(DiskImage.open(d));
        } catch (LoadException e) {
            for (DiskImage d : opened) d.close();
            throw e;
        }
        for (int i = 0; i < opened.size(); i++) {
            int irq = DRIVE_IRQ[i];
            VirtioBlk dev = new VirtioBlk(memory, new DiskOverlay(opened.get(i)), cfg.get(i).readOnly(), clock, pic, irq,
                    "ucheckpoint-disk" + i);
            PciFunction f = new PciFunction(VirtioBlk.pciIdentity(DRIVE_IO_BASE + i * VirtioBlk.BAR_SIZE, irq), dev);
            dev.connect(f);
            pci.plug(1 + i, f);
            drives.add(dev);
        }
    }

    /** Closes the drives' image files (the machine must not run afterwards). */
    public void closeDrives() {
        for (VirtioBlk d : drives) d.disk().base().close();
    }

    private static byte[] checkRom(GuestImage.Bios b) throws LoadException {
        int n = b.rom().length;
        if (n == 0 || n > (1 << 20) || (n & 0xFFF) != 0) {
            throw new LoadException(b.name() + ": a ROM image must be a multiple of 4 KiB up to 1 MiB (it is " + n + " bytes)");
        }
        return b.rom();
    }

    /** Loads the image and puts the processor where the image's boot protocol says. */
    private void boot() throws LoadException {
        cpu.reset();
        setA20(true);
        if (image instanceof GuestImage.Multiboot mb) {
            MultibootLoader.Boot boot = MultibootLoader.load(memory, mb.file(), mb.name(), mb.cmdline());
            cpu.enterFlatProtectedMode();
            cpu.setReg(Cpu.EAX, MultibootLoader.BOOT_MAGIC);
            cpu.setReg(Cpu.EBX, boot.infoAddress());
            cpu.setEip(boot.entry());
            // Registers the specification leaves undefined hold what QEMU 7.2's loader leaves in
            // them, so an instruction trace diffs cleanly against shared/tools/qemu-trace.
            cpu.setReg(Cpu.ECX, boot.entry());
            cpu.setReg(Cpu.EDX, 0x511);
            cpu.setReg(Cpu.EDI, 0x1000);
            cpu.setReg(Cpu.ESP, 0x6F08);
            cpu.setEflags(0x6);
        } else if (image instanceof GuestImage.Linux lx) {
            LinuxLoader.Boot boot = LinuxLoader.load(memory, lx.bzImage(), lx.name(), lx.initrd(), lx.cmdline());
            cpu.enterLinuxBootState(boot.gdtBase(), boot.gdtLimit(), boot.entry(), boot.bootParams());
        } else if (image instanceof GuestImage.Flat f) {
            long end = f.address() + f.data().length;
            if (f.address() < 0 || end > memory.ramSize()) {
                throw new LoadException(String.format("%s: %d bytes at 0x%x do not fit in %d MiB of RAM",
                        f.name(), f.data().length, f.address(), memory.ramSize() >> 20));
            }
            memory.writeBytes(f.address(), f.data(), 0, f.data().length);
            if (f.address() < 0x100000) {
                cpu.loadSegment(Cpu.SEG_CS, (int) (f.address() >> 4));
                cpu.setEip((int) (f.address() & 0xF));
            } else {
                cpu.enterFlatProtectedMode();
                cpu.setEip((int) f.address());
            }
        }
        // A BIOS image needs nothing: the reset state starts at its reset vector. A restored machine
        // gets its RAM and state from the snapshot right after construction.
    }

    // --- MachineControl: what devices may ask -----------------------------------------------------

    @Override
    public void exit(int status) {
        exitStatus = status;
        cpu.requestStop();
    }

    @Override
    public void reset() {
        resetRequested = true;
        cpu.requestStop();
    }

    @Override
    public void setA20(boolean enabled) {
        a20 = enabled;
        cpu.setA20(enabled);
    }

    // --- listeners and input ------------------------------------------------------------------------

    public void addGuestServicesListener(GuestServicesListener l) {
        serviceListeners.add(l);
    }

    public void addInputListener(InputListener l) {
        inputListeners.add(l);
    }

    public void removeGuestServicesListener(GuestServicesListener l) {
        serviceListeners.remove(l);
    }

    public void removeInputListener(InputListener l) {
        inputListeners.remove(l);
    }

    /** Queues a host byte for COM1; it reaches the guest at the next point the run loop looks. */
    public void offerInput(int b) {
        input.add(b & 0xFF);
    }

    /** Whether host bytes are queued for COM1 that the guest has not received yet. */
    public boolean hasQueuedInput() {
        return !input.isEmpty();
    }

    /**
     * Drops the first {@code n} queued host bytes: the machine was put where a run of the same
     * start had delivered them already (a campaign fast-forwarded to a golden checkpoint). Returns
     * how many were there to drop.
     */
    public int discardInput(int n) {
        int k = 0;
        while (k < n && input.poll() != null) k++;
        return k;
    }

    /** Asks {@link #run} (on its own thread) to return at the next instruction boundary it checks. */
    /**
     * Paces halts to the host clock (null: halts skip straight to the next deadline). For interactive
     * sessions only: guest-visible time is unchanged, but an idle guest then waits as long as the user.
     */
    public void setIdlePacer(IdlePacer pacer) {
        this.idlePacer = pacer;
    }

    public void requestPause() {
        pauseRequested = true;
    }

    /**
     * Makes {@link #run} return at the end of the current instruction, from code running on the
     * machine's own thread (a write trap that needs an early checkpoint boundary).
     */
    public void yieldRun() {
        yieldRequested = true;
        cpu.requestStop();
    }

    public MachineConfig config() {
        return config;
    }

    public GuestImage image() {
        return image;
    }

    public int reboots() {
        return reboots;
    }

    public boolean a20() {
        return a20;
    }

    // --- the run loop ---------------------------------------------------------------------------------

    /**
     * Runs until guest time reaches {@code tickLimit}, the retired-instruction count reaches
     * {@code icountLimit}, or something ends or pauses the run. Every return is at an instruction
     * boundary, with every device brought up to the current time.
     */
    public RunResult run(long tickLimit, long icountLimit) {
        if (idlePacer != null) idlePacer.resync(); // the caller may have paused or rolled back in between
        while (true) {
            RunResult stop = pendingStop();
            if (stop != null) return stop;
            deliverInput();
            long now = clock.now();
            if (now >= tickLimit || cpu.icount() >= icountLimit) return new RunResult(RunResult.Kind.LIMIT, 0, "limit reached");
            long deadline = nextDeadline();
            if (deadline <= now) {
                advanceDevices(now);
                continue;
            }
            long untilTicks = Math.min(deadline, tickLimit);
            long target = Math.min(Math.min(untilTicks - clock.skipped(), icountLimit), cpu.icount() + SLICE);
            runEndTicks = target + clock.skipped();
            Cpu.Stop s;
            try {
                s = cpu.run(target);
            } finally {
                runEndTicks = Long.MIN_VALUE;
            }
            advanceDevices(clock.now());
            switch (s) {
                case HALTED: {
                    if (!cpu.interruptsEnabled()) {
                        return new RunResult(RunResult.Kind.DEAD_HALT, 0,
                                "guest halted with interrupts disabled at " + where() + postCode());
                    }
                    long next = Math.min(nextDeadline(), tickLimit);
                    if (next == Long.MAX_VALUE) {
                        if (!input.isEmpty()) continue;
                        return new RunResult(RunResult.Kind.IDLE, 0, "guest is waiting for input with no timer armed");
                    }
                    long skip = next - clock.now();
                    if (skip > 0 && idlePacer != null) skip = idlePacer.pace(clock, skip);
                    if (skip > 0) clock.skip(skip);
                    advanceDevices(clock.now());
                    break;
                }
                case SHUTDOWN: {
                    String why = "guest " + cpu.shutdownReason() + " at " + where() + postCode();
                    log.info("{}; CPU state: {}", why, cpuSummary());
                    if (config.rebootOnReset()) {
                        reboot(why);
                        break;
                    }
                    return new RunResult(RunResult.Kind.TRIPLE_FAULT, 0, why);
                }
                case BREAKPOINT:
                    return new RunResult(RunResult.Kind.BREAKPOINT, 0, "breakpoint at " + where());
                default:
                    break;
            }
        }
    }

    private RunResult pendingStop() {
        if (exitStatus != null) {
            return new RunResult(RunResult.Kind.EXIT, exitStatus, "guest exited with status " + exitStatus);
        }
        if (resetRequested) {
            resetRequested = false;
            if (config.rebootOnReset()) {
                reboot("guest requested a reset");
            } else {
                return new RunResult(RunResult.Kind.RESET, 0, "guest requested a system reset at " + where() + postCode());
            }
        }
        if (yieldRequested) {
            yieldRequested = false;
            return new RunResult(RunResult.Kind.LIMIT, 0, "yielded");
        }
        if (pauseRequested) {
            pauseRequested = false;
            return new RunResult(RunResult.Kind.PAUSED, 0, "paused at " + where());
        }
        return null;
    }

    private void reboot(String why) {
        reboots++;
        log.info("{}: rebooting", why);
        memory.clear();
        for (int i = 0; i < components.size(); i++) components.get(i).restore(initialDeviceStates.get(i));
        pit.reset(); // counts from the reboot, not from time zero
        try {
            boot();
        } catch (LoadException e) {
            // The same image loaded once already; it cannot have become invalid.
            throw new IllegalStateException("reloading " + image.name() + " failed: " + e.getMessage(), e);
        }
    }

    /** Holds live host input back (while logged input is being replayed after a recovery). */
    public void setInputHeld(boolean held) {
        inputHeld = held;
    }

    /** Reboots the guest now: RAM cleared, devices back to power-on, the image loaded again. */
    public void rebootNow() {
        reboot("reboot requested");
    }

    private void deliverInput() {
        if (inputHeld) return;
        Integer b;
        while (com1.rxSpace() > 0 && (b = input.poll()) != null) {
            com1.receive(b);
            for (InputListener l : inputListeners) l.delivered(cpu.icount(), clock.now(), b);
        }
    }

    /** Delivers a logged host byte at the current point (replaying input after a rollback). */
    public boolean deliverLoggedInput(int b) {
        return com1.receive(b & 0xFF);
    }

    /**
     * After a port access during a run: if a device now wants time earlier than the run would stop,
     * stop after this instruction so the loop runs only up to the new deadline. Without this the
     * interrupt would fire wherever the run happened to end, and so depend on how the run was cut
     * (design brief, invariant 1).
     */
    private void deadlineMayHaveMoved() {
        if (runEndTicks != Long.MIN_VALUE && nextDeadline() < runEndTicks) cpu.requestStop();
    }

    private long nextDeadline() {
        long d = Long.MAX_VALUE;
        for (Clocked c : clocked) d = Math.min(d, c.nextDeadline());
        return d;
    }

    private void advanceDevices(long now) {
        for (Clocked c : clocked) {
            if (c.nextDeadline() <= now) c.advance(now);
        }
    }

    private String where() {
        return String.format("EIP=%08x (CS base %08x), instruction %d", cpu.eip(), cpu.segmentBase(Cpu.SEG_CS), cpu.icount());
    }

    private String postCode() {
        int code = post.lastCode();
        return code < 0 ? "" : String.format(", last POST code %02x", code);
    }

    private String cpuSummary() {
        StringBuilder b = new StringBuilder();
        String[] names = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
        for (int i = 0; i < 8; i++) b.append(String.format("%s=%08x ", names[i], cpu.reg(i)));
        b.append(String.format("EFLAGS=%08x CR0=%08x CR2=%08x CR3=%08x", cpu.eflags(), cpu.cr0(), cpu.cr2(), cpu.cr3()));
        return b.toString();
    }

    // --- the whole-machine small state ------------------------------------------------------------------

    public MachineState saveState() {
        List<MachineState.DeviceState> devs = new ArrayList<>(components.size());
        for (Component<?> c : components) devs.add(new MachineState.DeviceState(c.name(), c.save()));
        return new MachineState(cpu.save(), clock.skipped(), a20, List.copyOf(devs));
    }

    /** Puts back a state taken from a machine built from the same configuration (RAM is not touched). */
    public void restoreState(MachineState s) {
        if (s.devices().size() != components.size()) throw new IllegalArgumentException("state is for a different machine");
        for (int i = 0; i < components.size(); i++) {
            if (!components.get(i).name().equals(s.devices().get(i).name())) {
                throw new IllegalArgumentException("state is for a different machine (device " + s.devices().get(i).name() + ")");
            }
        }
        cpu.restore(s.cpu());
        clock.setSkipped(s.clockSkipped());
        setA20(s.a20());
        for (int i = 0; i < components.size(); i++) components.get(i).restore(s.devices().get(i).state());
        exitStatus = null;
        resetRequested = false;
    }
}

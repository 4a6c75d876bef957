package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;

/**
 * One function on PCI bus 0: its type-0 configuration header, and at most one I/O BAR.
 *
 * <p>The machine has no firmware that enumerates PCI, so the header comes up as a BIOS would leave
 * it: BAR0 assigned, I/O decoding on and the interrupt line set to the IRQ the (fixed) routing
 * gives the function's INTA#. The guest may move the BAR and change the writable registers; the
 * identity registers are read-only. Not modelled: memory BARs, expansion ROMs, capabilities (so
 * no MSI/MSI-X), BIST, parity and SERR reporting.
 */
public final class PciFunction implements Persistent<PciFunction.State> {
    public static final int CMD_IO = 0x1, CMD_MEMORY = 0x2, CMD_MASTER = 0x4, CMD_INTX_DISABLE = 0x400;
    private static final int CMD_WRITABLE = CMD_IO | CMD_MEMORY | CMD_MASTER | 0x40 | 0x100 | CMD_INTX_DISABLE;

    /**
     * What a function is: its identity registers, its I/O BAR's size (0: none) and where the
     * firmware would have put it, and its interrupt pin (0: none, 1: INTA#) and line.
     */
    public record Identity(String name, int vendor, int device, int classCode, int revision, int subsystemVendor,
                           int subsystem, int ioBarSize, int ioBarBase, int interruptPin, int interruptLine) {
        public Identity {
            if (ioBarSize != 0 && (Integer.bitCount(ioBarSize) != 1 || ioBarSize < 4 || ioBarSize > 256)) {
                throw new IllegalArgumentException("an I/O BAR is a power of two from 4 to 256 bytes");
            }
        }
    }

    /** The registers the guest can change. */
    public record State(int command, int bar0, int cacheLineSize, int latencyTimer, int interruptLine) {}

    private final Identity id;
    /** The BAR's ports, seen at offsets from the BAR's base (null without a BAR). */
    private final IoDevice ioRegion;
    private final java.util.List<Runnable> listeners = new java.util.ArrayList<>();
    private java.util.function.BooleanSupplier interruptStatus = () -> false;
    private int command;
    private int bar0;
    private int cacheLineSize;
    private int latencyTimer;
    private int interruptLine;

    public PciFunction(Identity id, IoDevice ioRegion) {
        this.id = id;
        this.ioRegion = ioRegion;
        restore(powerOn());
    }

    /** The header as firmware leaves it. */
    public State powerOn() {
        return new State(id.ioBarSize() != 0 ? CMD_IO : 0, id.ioBarSize() != 0 ? id.ioBarBase() : 0, 0, 0,
                id.interruptLine());
    }

    public Identity identity() {
        return id;
    }

    /** Hears every change of the command register or the BAR (the bus's port mapping, the device's INTx). */
    public void addListener(Runnable r) {
        listeners.add(r);
    }

    private void changed() {
        for (Runnable r : listeners) r.run();
    }

    /** The device's INTx request, shown in the status register's interrupt bit. */
    public void setInterruptStatus(java.util.function.BooleanSupplier s) {
        interruptStatus = s;
    }

    public int command() {
        return command;
    }

    public boolean busMaster() {
        return (command & CMD_MASTER) != 0;
    }

    public boolean intxEnabled() {
        return (command & CMD_INTX_DISABLE) == 0;
    }

    IoDevice ioRegion() {
        return ioRegion;
    }

    /** The port range the BAR decodes now: {@code [base, base + size)}, or -1 when it decodes nothing. */
    int decodedIoBase() {
        if (id.ioBarSize() == 0 || (command & CMD_IO) == 0) return -1;
        int base = bar0 & 0xFFFC;
        // Addresses 0 and ports that would wrap the 64 KiB space are not decoded (a BAR being sized
        // holds all ones until the guest writes an address back).
        if (base == 0 || base + id.ioBarSize() > 0x10000 || (bar0 & 0xFFFF0000) != 0) return -1;
        return base;
    }

    /** Reads configuration register {@code reg} (a dword index, 0-63). */
    public int readConfig(int reg) {
        return switch (reg) {
            case 0 -> (id.device() << 16) | id.vendor();
            case 1 -> ((interruptStatus.getAsBoolean() ? 0x8 : 0) << 16) | command;
            case 2 -> (id.classCode() << 8) | id.revision();
            case 3 -> (latencyTimer << 8) | cacheLineSize; // header type 0, single function, no BIST
            case 4 -> id.ioBarSize() != 0 ? bar0 | 1 : 0;
            case 11 -> (id.subsystem() << 16) | id.subsystemVendor();
            case 15 -> (id.interruptPin() << 8) | interruptLine;
            default -> 0;
        };
    }

    /** Writes the bytes of {@code value} selected by {@code byteMask} (bit i: byte i) to register {@code reg}. */
    public void writeConfig(int reg, int value, int byteMask) {
        int m = 0;
        for (int i = 0; i < 4; i++) if ((byteMask & (1 << i)) != 0) m |= 0xFF << (8 * i);
        switch (reg) {
            case 1 -> {
                int c = (command & ~(m & 0xFFFF)) | (value & m & CMD_WRITABLE);
                if (c != command) {
                    command = c;
                    changed();
                }
            }
            case 3 -> {
                if ((m & 0xFF) != 0) cacheLineSize = value & 0xFF;
                if ((m & 0xFF00) != 0) latencyTimer = (value >>> 8) & 0xFF;
            }
            case 4 -> {
                if (id.ioBarSize() == 0) return;
                int v = (bar0 & ~m) | (value & m);
                v &= ~(id.ioBarSize() - 1) & ~3;
                if (v != bar0) {
                    bar0 = v;
                    changed();
                }
            }
            case 15 -> {
                if ((m & 0xFF) != 0) interruptLine = value & 0xFF;
            }
            default -> {
                // read-only or unimplemented: dropped, as on hardware
            }
        }
    }

    @Override
    public State save() {
        return new State(command, bar0, cacheLineSize, latencyTimer, interruptLine);
    }

    @Override
    public void restore(State s) {
        command = s.command() & CMD_WRITABLE;
        bar0 = id.ioBarSize() == 0 ? 0 : s.bar0() & ~(id.ioBarSize() - 1) & ~3;
        cacheLineSize = s.cacheLineSize() & 0xFF;
        latencyTimer = s.latencyTimer() & 0xFF;
        interruptLine = s.interruptLine() & 0xFF;
        changed();
    }
}

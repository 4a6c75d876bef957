package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;
import java.util.ArrayList;
import java.util.List;

/**
 * PCI bus 0 behind configuration mechanism #1 (0xCF8-0xCFF), and the I/O ports its functions'
 * BARs decode.
 *
 * <p>The 32-bit address register at 0xCF8 reads back what was written (reserved bits 24-30 and 0-1
 * as 0); the data window 0xCFC-0xCFF reaches the addressed register at any width. An absent
 * function, another bus or the enable bit clear reads all ones and ignores writes. Narrower
 * accesses to 0xCF8-0xCFB are not the address register (on a PIIX 0xCF9 is the reset control
 * register, which is not modelled) and read all ones.
 *
 * <p>A function's BAR is mapped on the I/O bus while its I/O decoding is on, and moves when the
 * guest writes the BAR (Linux sizes every BAR at boot by writing all ones, then restores it).
 */
public final class PciBus implements IoDevice, Persistent<PciBus.State> {
    public static final int ADDRESS_PORT = 0xCF8;
    public static final int DATA_PORT = 0xCFC;

    public record State(int address, List<PciFunction.State> functions) {}

    private final IoPortBus io;
    /** Functions by device number (function 0 of each slot; no multi-function devices). */
    private final PciFunction[] slots = new PciFunction[32];
    private final List<PciFunction> functions = new ArrayList<>();
    private final int[] mappedBase = new int[32];
    private final IoDevice[] mappedRelay = new IoDevice[32];
    private int address;

    public PciBus(IoPortBus io) {
        this.io = io;
        java.util.Arrays.fill(mappedBase, -1);
    }

    public void attachTo(IoPortBus bus) {
        bus.register(ADDRESS_PORT, 8, this);
    }

    /** Plugs {@code f} into slot {@code device} of bus 0, its BAR decoding as the firmware left it. */
    public void plug(int device, PciFunction f) {
        if (device < 0 || device > 31 || slots[device] != null) throw new IllegalArgumentException("PCI slot " + device + " is taken or invalid");
        slots[device] = f;
        functions.add(f);
        f.addListener(() -> remap(device));
        remap(device);
    }

    public List<PciFunction> functions() {
        return List.copyOf(functions);
    }

    @Override
    public int in(int port, int size) {
        if (port == ADDRESS_PORT && size == 4) return address;
        if (port < DATA_PORT) return IoPortBus.mask(size);
        PciFunction f = addressed();
        if (f == null) return IoPortBus.mask(size);
        int shift = 8 * (port - DATA_PORT);
        return f.readConfig((address >>> 2) & 0x3F) >>> shift;
    }

    @Override
    public void out(int port, int size, int value) {
        if (port == ADDRESS_PORT && size == 4) {
            address = value & 0x80FF_FFFC;
            return;
        }
        if (port < DATA_PORT) return;
        PciFunction f = addressed();
        if (f == null) return;
        int byteOffset = port - DATA_PORT;
        int bytes = Math.min(size, 4 - byteOffset);
        int mask = ((1 << bytes) - 1) << byteOffset;
        f.writeConfig((address >>> 2) & 0x3F, value << (8 * byteOffset), mask);
    }

    private PciFunction addressed() {
        if ((address & 0x8000_0000) == 0) return null;
        int bus = (address >>> 16) & 0xFF, dev = (address >>> 11) & 0x1F, fn = (address >>> 8) & 7;
        return bus == 0 && fn == 0 ? slots[dev] : null;
    }

    private void remap(int device) {
        PciFunction f = slots[device];
        int base = f.decodedIoBase();
        if (base == mappedBase[device]) return;
        int size = f.identity().ioBarSize();
        if (mappedBase[device] >= 0) {
            io.unregister(mappedBase[device], size, mappedRelay[device]);
            mappedBase[device] = -1;
        }
        if (base < 0) return;
        IoDevice region = f.ioRegion();
        IoDevice relay = new IoDevice() {
            @Override
            public int in(int port, int sz) {
                return region.in(port - base, sz);
            }

            @Override
            public void out(int port, int sz, int value) {
                region.out(port - base, sz, value);
            }
        };
        if (io.tryRegister(base, size, relay)) {
            mappedBase[device] = base;
            mappedRelay[device] = relay;
        }
        // else: the guest put the BAR over another device's ports; it decodes nothing there (the
        // other device keeps its ports, as the earlier claim wins on a real bus).
    }

    @Override
    public State save() {
        List<PciFunction.State> s = new ArrayList<>(functions.size());
        for (PciFunction f : functions) s.add(f.save());
        return new State(address, List.copyOf(s));
    }

    @Override
    public void restore(State state) {
        if (state.functions().size() != functions.size()) throw new IllegalArgumentException("PCI state is for a different set of functions");
        address = state.address() & 0x80FF_FFFC;
        for (int i = 0; i < functions.size(); i++) functions.get(i).restore(state.functions().get(i));
    }
}

package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Configuration mechanism #1, a type-0 header, BAR sizing and moving, persistence (PCI Local Bus spec 3.0, ch. 6). */
class PciBusTest {
    private final IoPortBus io = new IoPortBus();
    private final List<String> accesses = new ArrayList<>();
    private final IoDevice region = new IoDevice() {
        @Override
        public int in(int port, int size) {
            accesses.add("in " + port);
            return 0x5A;
        }

        @Override
        public void out(int port, int size, int value) {
            accesses.add("out " + port + "=" + value);
        }
    };
    private static final PciFunction.Identity DEV =
            new PciFunction.Identity("test", 0x1AF4, 0x1001, 0x010000, 0, 0x1AF4, 2, 64, 0xC000, 1, 11);

    private PciBus bus() {
        PciBus pci = new PciBus(io);
        pci.attachTo(io);
        pci.plug(3, new PciFunction(DEV, region));
        return pci;
    }

    private int read(int dev, int reg) {
        io.out(0xCF8, 4, 0x8000_0000 | (dev << 11) | reg);
        return io.in(0xCFC, 4);
    }

    @Test
    void emptySlotsOtherBusesAndTheDisabledWindowReadAllOnes() {
        bus();
        io.out(0xCF8, 4, 0xFFFF_FFFF);
        assertEquals(0x80FF_FFFC, io.in(0xCF8, 4), "reserved address bits read 0");
        assertEquals(0xFFFF_FFFF, read(0, 0));
        io.out(0xCF8, 4, 0x8001_1800); // bus 1, device 3
        assertEquals(0xFFFF_FFFF, io.in(0xCFC, 4));
        io.out(0xCF8, 4, 0x0000_1800); // enable bit clear
        assertEquals(0xFFFF_FFFF, io.in(0xCFC, 4));
        assertEquals(0xFF, io.in(0xCF9, 1), "0xCF9 is not the address register");
    }

    @Test
    void headerShowsIdentityAndTheFirmwareAssignment() {
        bus();
        assertEquals(0x1001_1AF4, read(3, 0));
        assertEquals(0x0100_0000, read(3, 8), "class 01 (mass storage), subclass 00, revision 0");
        assertEquals(0xC001, read(3, 0x10), "an I/O BAR has bit 0 set");
        assertEquals(0x0002_1AF4, read(3, 0x2C));
        assertEquals(0x010B, read(3, 0x3C) & 0xFFFF, "INTA#, line 11");
        assertEquals(1, read(3, 4) & 0xFFFF, "I/O decoding on");
        io.out(0xCF8, 4, 0x8000_1800 | 0x0E);
        assertEquals(0x0000, io.in(0xCFE, 2), "header type 0 through a 16-bit read at byte 2 of the dword");
        io.out(0xCF8, 4, 0x8000_1800);
        assertEquals(0x1A, io.in(0xCFD, 1), "byte 1 of the vendor id");
    }

    @Test
    void barSizingAndMovingChangeWhichPortsReachTheDevice() {
        bus();
        io.in(0xC013, 1);
        assertEquals(List.of("in 19"), accesses, "ports reach the region at offsets from the BAR");
        io.out(0xCF8, 4, 0x8000_1810);
        io.out(0xCFC, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFC1, io.in(0xCFC, 4), "sizing: 64 bytes of I/O");
        io.out(0xCFC, 4, 0xD000);
        assertEquals(0xD001, io.in(0xCFC, 4));
        accesses.clear();
        assertEquals(0xFF, io.in(0xC013, 1), "the old ports are free");
        io.out(0xD004, 4, 7);
        assertEquals(List.of("out 4=7"), accesses);
        io.out(0xCF8, 4, 0x8000_1804);
        io.out(0xCFC, 2, 0); // I/O decoding off
        accesses.clear();
        assertEquals(0xFF, io.in(0xD004, 1));
        assertEquals(List.of(), accesses);
    }

    @Test
    void aBarMovedOntoAnotherDevicesPortsDecodesNothing() {
        bus();
        PostCodePort post = new PostCodePort();
        post.attachTo(io);
        io.out(0xCF8, 4, 0x8000_1810);
        io.out(0xCFC, 4, 0x40); // 0x40-0x7F overlaps nothing yet: a plain move works
        io.in(0x53, 1);
        assertEquals(List.of("in 19"), accesses);
        io.out(0xCFC, 4, 0x80); // 0x80-0xBF overlaps the POST port
        accesses.clear();
        io.in(0x93, 1);
        assertEquals(List.of(), accesses);
        assertSame(post, io.deviceAt(0x80));
        assertNull(io.deviceAt(0x53));
    }

    @Test
    void persists() {
        PersistentContract.of(() -> {
            IoPortBus b = new IoPortBus();
            PciBus p = new PciBus(b);
            p.attachTo(b);
            p.plug(3, new PciFunction(DEV, region));
            return p;
        }, p -> List.of(p))
                .prepare(p -> {
                    p.out(0xCF8, 4, 0x8000_1810);
                    p.out(0xCFC, 4, 0xD000);
                })
                .mutate(p -> {
                    p.out(0xCFC, 4, 0xE000);
                    p.out(0xCF8, 4, 0x8000_183C);
                    p.out(0xCFC, 1, 5);
                })
                .observe(p -> {
                    int a = p.in(0xCF8, 4);
                    p.out(0xCF8, 4, 0x8000_1810);
                    int bar = p.in(0xCFC, 4);
                    p.out(0xCF8, 4, 0x8000_183C);
                    int line = p.in(0xCFC, 4);
                    p.out(0xCF8, 4, a);
                    return List.of(a, bar, line);
                })
                .verify();
    }
}

package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Pic8259PairTest {
    /** A PIC pair on a bus, its INTR pin recorded. */
    static final class Rig {
        final IoPortBus bus = new IoPortBus();
        boolean pin;
        int pinChanges;
        final Pic8259Pair pic = new Pic8259Pair(level -> {
            pin = level;
            pinChanges++;
        });

        Rig() {
            pic.attachTo(bus);
        }

        /** The classic PC initialisation: vectors 0x20 and 0x28, cascade on IR2, 8086 mode, all unmasked. */
        Rig init(int icw4) {
            out(0x20, 0x11);
            out(0x21, 0x20);
            out(0x21, 0x04);
            out(0x21, icw4);
            out(0xA0, 0x11);
            out(0xA1, 0x28);
            out(0xA1, 0x02);
            out(0xA1, icw4);
            return this;
        }

        void out(int port, int v) {
            bus.out(port, 1, v);
        }

        int in(int port) {
            return bus.in(port, 1);
        }

        int isr(int commandPort) {
            out(commandPort, 0x0B);
            return in(commandPort);
        }

        int irr(int commandPort) {
            out(commandPort, 0x0A);
            return in(commandPort);
        }

        void eoi() {
            out(0x20, 0x20);
        }
    }

    @Test
    void deliversARequestAndMarksItInService() {
        Rig r = new Rig().init(0x01);
        assertFalse(r.pin);
        r.pic.setIrq(1, true);
        assertTrue(r.pin);
        assertEquals(0x02, r.irr(0x20));
        assertEquals(0x21, r.pic.acknowledge());
        assertFalse(r.pin);
        assertEquals(0x02, r.isr(0x20));
        assertEquals(0x00, r.irr(0x20));
        r.eoi();
        assertEquals(0x00, r.isr(0x20));
        assertFalse(r.pin);
    }

    @Test
    void higherPriorityFirstAndNestedOnlyAbove() {
        Rig r = new Rig().init(0x01);
        r.pic.setIrq(3, true);
        r.pic.setIrq(5, true);
        assertEquals(0x23, r.pic.acknowledge());
        assertFalse(r.pin, "IRQ5 waits for IRQ3's EOI");
        r.pic.setIrq(1, true);
        assertTrue(r.pin, "IRQ1 outranks the IRQ3 in service");
        assertEquals(0x21, r.pic.acknowledge());
        assertEquals(0x0A, r.isr(0x20));
        r.eoi(); // non-specific: clears the highest, IRQ1
        assertEquals(0x08, r.isr(0x20));
        assertFalse(r.pin);
        r.eoi();
        assertTrue(r.pin);
        assertEquals(0x25, r.pic.acknowledge());
    }

    @Test
    void masksHoldRequestsBack() {
        Rig r = new Rig().init(0x01);
        r.out(0x21, 0xFF);
        assertEquals(0xFF, r.in(0x21));
        r.pic.setIrq(4, true);
        assertFalse(r.pin);
        assertEquals(0x10, r.irr(0x20));
        r.out(0x21, 0xEF);
        assertTrue(r.pin);
        assertEquals(0x24, r.pic.acknowledge());
    }

    @Test
    void edgeInputsLatchUntilAcknowledgedAndNeedANewEdge() {
        Rig r = new Rig().init(0x01);
        r.pic.setIrq(4, true);
        r.pic.setIrq(4, false);
        assertTrue(r.pin, "the edge is latched");
        assertEquals(0x24, r.pic.acknowledge());
        r.eoi();
        r.pic.setIrq(4, true);
        assertEquals(0x24, r.pic.acknowledge());
        r.eoi();
        r.pic.setIrq(4, true); // still high: no new edge
        assertFalse(r.pin);
        r.pic.pulseIrq(4);
        assertTrue(r.pin);
    }

    @Test
    void levelInputsFollowTheLineAndRepeatAfterEoi() {
        Rig r = new Rig().init(0x01);
        r.out(0x4D1, 0x02); // IRQ9 level-triggered
        assertEquals(0x02, r.in(0x4D1));
        r.pic.setIrq(9, true);
        assertTrue(r.pin);
        assertEquals(0x29, r.pic.acknowledge());
        assertFalse(r.pin);
        r.out(0xA0, 0x20);
        r.eoi();
        assertTrue(r.pin, "the line is still high");
        assertEquals(0x29, r.pic.acknowledge());
        r.out(0xA1, 0x02); // mask before EOI, as Linux does for level interrupts
        r.out(0xA0, 0x20);
        r.eoi();
        assertFalse(r.pin);
        r.pic.setIrq(9, false);
        assertEquals(0x00, r.irr(0xA0));
        r.out(0xA1, 0x00);
        assertFalse(r.pin);
    }

    @Test
    void elcrCannotMakeTimerKeyboardCascadeRtcOrFpuLevelTriggered() {
        Rig r = new Rig();
        r.out(0x4D0, 0xFF);
        r.out(0x4D1, 0xFF);
        assertEquals(0xF8, r.in(0x4D0));
        assertEquals(0xDE, r.in(0x4D1));
    }

    @Test
    void slaveRequestsCascadeThroughIr2() {
        Rig r = new Rig().init(0x01);
        r.pic.setIrq(12, true);
        assertTrue(r.pin);
        assertEquals(0x04, r.irr(0x20));
        assertEquals(0x2C, r.pic.acknowledge());
        assertEquals(0x04, r.isr(0x20));
        assertEquals(0x10, r.isr(0xA0));
        r.pic.setIrq(8, true);
        assertFalse(r.pin, "the master's IR2 is in service");
        r.out(0xA0, 0x20);
        r.eoi();
        assertTrue(r.pin);
        assertEquals(0x28, r.pic.acknowledge());
        r.pic.setIrq(1, true);
        assertTrue(r.pin, "IRQ1 outranks the cascade in service");
        assertEquals(0x21, r.pic.acknowledge());
    }

    @Test
    void slaveMaskStopsTheCascade() {
        Rig r = new Rig().init(0x01);
        r.out(0xA1, 0x01);
        r.pic.setIrq(8, true);
        assertFalse(r.pin);
        r.out(0xA1, 0x00);
        assertTrue(r.pin);
        assertEquals(0x28, r.pic.acknowledge());
    }

    @Test
    void vanishedMasterRequestGivesSpuriousIrq7WithoutIsr() {
        Rig r = new Rig().init(0x01);
        r.out(0x4D0, 0x08); // IRQ3 level-triggered
        r.pic.setIrq(3, true);
        assertTrue(r.pin);
        r.pic.setIrq(3, false);
        assertFalse(r.pin);
        assertEquals(0x27, r.pic.acknowledge());
        assertEquals(0x00, r.isr(0x20));
    }

    @Test
    void vanishedSlaveRequestGivesSpuriousIrq15WithMasterIr2InService() {
        Rig r = new Rig().init(0x01);
        r.out(0x4D1, 0x04); // IRQ10 level-triggered
        r.pic.setIrq(10, true);
        r.pic.setIrq(10, false);
        assertTrue(r.pin, "the master latched the slave's edge on IR2");
        assertEquals(0x2F, r.pic.acknowledge());
        assertEquals(0x04, r.isr(0x20));
        assertEquals(0x00, r.isr(0xA0));
        r.eoi();
        assertFalse(r.pin);
    }

    @Test
    void autoEoiLeavesNothingInService() {
        Rig r = new Rig().init(0x03);
        r.pic.setIrq(0, true);
        r.pic.setIrq(9, true);
        assertEquals(0x20, r.pic.acknowledge());
        assertEquals(0x00, r.isr(0x20));
        assertTrue(r.pin);
        assertEquals(0x29, r.pic.acknowledge());
        assertEquals(0x00, r.isr(0x20));
        assertEquals(0x00, r.isr(0xA0));
    }

    @Test
    void specificEoiAndPriorityRotation() {
        Rig r = new Rig().init(0x01);
        r.out(0x20, 0xC2); // IR2 lowest: IR3 is now the highest
        r.pic.setIrq(1, true);
        r.pic.setIrq(4, true);
        assertEquals(0x24, r.pic.acknowledge());
        r.pic.setIrq(6, true);
        assertFalse(r.pin, "IRQ1 and IRQ6 rank below IRQ4 now");
        r.out(0x20, 0x64); // specific EOI for IR4
        assertEquals(0x26, r.pic.acknowledge());
        r.out(0x20, 0xE6); // rotate on specific EOI: IR6 becomes lowest, IR7 highest
        r.pic.setIrq(7, true);
        assertEquals(0x27, r.pic.acknowledge());
        r.out(0x20, 0xA0); // rotate on non-specific EOI: IR7 lowest again
        assertEquals(0x21, r.pic.acknowledge());
    }

    @Test
    void specialMaskModeOpensLowerLevels() {
        Rig r = new Rig().init(0x01);
        r.pic.setIrq(3, true);
        assertEquals(0x23, r.pic.acknowledge());
        r.pic.setIrq(5, true);
        assertFalse(r.pin);
        r.out(0x21, 0x08);
        r.out(0x20, 0x68); // set special mask mode
        assertTrue(r.pin);
        assertEquals(0x25, r.pic.acknowledge());
        r.out(0x20, 0x48); // reset special mask mode
        r.out(0x20, 0x65);
        r.out(0x21, 0x00);
        assertFalse(r.pin);
    }

    @Test
    void specialFullyNestedLetsAHigherSlaveRequestThrough() {
        Rig r = new Rig();
        r.out(0x20, 0x11);
        r.out(0x21, 0x20);
        r.out(0x21, 0x04);
        r.out(0x21, 0x11); // SFNM
        r.out(0xA0, 0x11);
        r.out(0xA1, 0x28);
        r.out(0xA1, 0x02);
        r.out(0xA1, 0x01);
        r.pic.setIrq(12, true);
        assertEquals(0x2C, r.pic.acknowledge());
        r.pic.setIrq(8, true);
        assertTrue(r.pin);
        assertEquals(0x28, r.pic.acknowledge());
    }

    @Test
    void pollModeAcknowledgesThroughTheCommandPort() {
        Rig r = new Rig().init(0x01);
        r.out(0x20, 0x0C);
        assertEquals(0x00, r.in(0x20));
        r.pic.setIrq(6, true);
        r.out(0x20, 0x0C);
        assertEquals(0x86, r.in(0x20));
        assertEquals(0x40, r.isr(0x20));
        assertFalse(r.pin);
    }

    @Test
    void initialisationClearsLatchesMasksAndService() {
        Rig r = new Rig().init(0x01);
        r.pic.setIrq(5, true);
        r.pic.acknowledge();
        r.pic.setIrq(6, true);
        r.out(0x21, 0x80);
        r.init(0x01);
        assertEquals(0x00, r.isr(0x20));
        assertEquals(0x00, r.irr(0x20));
        assertEquals(0x00, r.in(0x21));
        assertFalse(r.pin);
        r.out(0x20, 0x13); // ICW1 single mode, ICW4: no ICW3
        r.out(0x21, 0x40);
        r.out(0x21, 0x01);
        r.out(0x21, 0xFE); // now OCW1
        assertEquals(0xFE, r.in(0x21));
    }

    @Test
    void powerOnVectorsAreQemusAndSpuriousWithNothingPending() {
        Rig r = new Rig();
        r.pic.setIrq(0, true);
        assertTrue(r.pin);
        assertEquals(0x00, r.pic.acknowledge());
        assertEquals(0x07, r.pic.acknowledge());
    }

    @Test
    void nonsenseNeverThrows() {
        Rig r = new Rig();
        r.pic.setIrq(2, true);
        r.pic.setIrq(16, true);
        r.pic.setIrq(-1, true);
        for (int port : new int[] {0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1}) {
            for (int v = 0; v < 256; v += 7) {
                r.out(port, v);
                r.in(port);
                r.pic.acknowledge();
            }
        }
        r.pic.outByte(0x99, 1);
        assertEquals(0xFF, r.pic.inByte(0x99));
    }

    @Test
    void saveRestoreContract() {
        PersistentContract.of(() -> new Rig().init(0x01), r -> List.of(r.pic))
                .prepare(r -> {
                    r.out(0x4D1, 0x04);
                    r.pic.setIrq(3, true);
                    r.pic.setIrq(12, true);
                    r.pic.acknowledge();
                    r.pic.setIrq(10, true);
                    r.out(0x20, 0x0B);
                })
                .mutate(r -> r.init(0x03))
                .mutate(r -> {
                    r.pic.setIrq(10, false);
                    r.pic.setIrq(1, true);
                    r.out(0xA1, 0xFF);
                })
                .mutate(r -> r.out(0x20, 0xC5))
                .observe(r -> {
                    List<Integer> seen = new ArrayList<>();
                    seen.add(r.in(0x20));
                    seen.add(r.pin ? 1 : 0);
                    for (int i = 0; i < 4; i++) {
                        seen.add(r.pic.acknowledge());
                        r.out(0xA0, 0x20);
                        r.eoi();
                    }
                    seen.add(r.irr(0xA0));
                    return seen;
                })
                .verify();
    }

    @Test
    void restoreDrivesThePin() {
        Rig a = new Rig().init(0x01);
        a.pic.setIrq(1, true);
        Rig b = new Rig();
        b.pic.restore(a.pic.save());
        assertTrue(b.pin);
        assertTrue(b.pic.interruptPending());
    }
}

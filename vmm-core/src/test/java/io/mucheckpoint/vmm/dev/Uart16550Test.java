package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Uart16550Test {
    static final int BASE = 0x3F8;
    static final int THR = BASE;
    static final int IER = BASE + 1;
    static final int IIR = BASE + 2;
    static final int LCR = BASE + 3;
    static final int MCR = BASE + 4;
    static final int LSR = BASE + 5;
    static final int MSR = BASE + 6;
    static final int SCR = BASE + 7;

    static final class Rig {
        final IrqRecorder irqs = new IrqRecorder();
        final List<Integer> output = new ArrayList<>();
        final Uart16550 uart = Uart16550.com1(irqs, output::add);
        final IoPortBus bus = new IoPortBus();

        Rig() {
            uart.attachTo(bus);
        }

        void out(int port, int v) {
            bus.out(port, 1, v);
        }

        int in(int port) {
            return bus.in(port, 1);
        }

        boolean irq() {
            return irqs.level(4);
        }
    }

    @Test
    void transmitsInstantly() {
        Rig r = new Rig();
        assertEquals(0x60, r.in(LSR));
        for (char c : "hi\n".toCharArray()) r.out(THR, c);
        assertEquals(List.of((int) 'h', (int) 'i', (int) '\n'), r.output);
        assertEquals(0x60, r.in(LSR), "THR and the transmitter are empty again");
        r.out(LCR, 0x02); // 7 data bits: still eight go out, as on QEMU
        r.out(THR, 0xFF);
        assertEquals(0xFF, r.output.get(3));
    }

    @Test
    void divisorLatchBehindDlab() {
        Rig r = new Rig();
        r.out(LCR, 0x83);
        r.out(THR, 0x01);
        r.out(IER, 0x00);
        assertEquals(0x01, r.in(THR));
        assertEquals(0x00, r.in(IER));
        r.out(LCR, 0x03);
        assertEquals(0x03, r.in(LCR));
        assertEquals(List.of(), r.output, "divisor writes are not output");
        r.out(THR, 'x');
        assertEquals(List.of((int) 'x'), r.output);
        r.out(LCR, 0x83);
        assertEquals(0x01, r.in(THR));
    }

    @Test
    void loopbackReturnsBytesAndModemLines() {
        Rig r = new Rig();
        r.out(MCR, 0x1A); // loop, RTS, OUT2: what Linux's probe writes
        assertEquals(0x90, r.in(MSR) & 0xF0);
        r.out(MCR, 0x1F);
        assertEquals(0xF0, r.in(MSR) & 0xF0);
        r.out(THR, 'A');
        assertEquals(List.of(), r.output);
        assertEquals(0x61, r.in(LSR));
        assertEquals('A', r.in(THR));
        assertEquals(0x60, r.in(LSR));
        assertFalse(r.uart.receive('z'), "the serial input is disconnected in loopback");
        assertEquals(0, r.uart.rxSpace());
        r.out(MCR, 0x03);
        assertEquals(0xB0, r.in(MSR) & 0xF0, "a terminal: CTS, DSR, DCD");
    }

    @Test
    void loopbackOverrunSetsOe() {
        Rig r = new Rig();
        r.out(MCR, 0x10);
        r.out(THR, 1);
        r.out(THR, 2); // no FIFO: one byte of room
        assertEquals(0x63, r.in(LSR));
        assertEquals(0x61, r.in(LSR), "reading LSR clears OE");
        assertEquals(1, r.in(THR));
    }

    @Test
    void modemStatusDeltas() {
        Rig r = new Rig();
        r.out(MCR, 0x10);
        r.in(MSR);
        r.out(MCR, 0x17); // DTR, RTS, OUT1 on
        assertEquals(0x70 | 0x03, r.in(MSR));
        r.out(MCR, 0x13); // OUT1 off: RI trailing edge
        assertEquals(0x30 | 0x04, r.in(MSR));
        assertEquals(0x30, r.in(MSR));
    }

    @Test
    void fifoHoldsSixteenBytesInOrder() {
        Rig r = new Rig();
        assertEquals(0x01, r.in(IIR), "no FIFO bits yet");
        assertEquals(1, r.uart.rxSpace());
        r.out(IIR, 0xC7);
        assertEquals(0xC1, r.in(IIR));
        assertEquals(16, r.uart.rxSpace());
        for (int i = 0; i < 16; i++) assertTrue(r.uart.receive(i));
        assertFalse(r.uart.receive(99));
        assertEquals(0, r.uart.rxSpace());
        for (int i = 0; i < 16; i++) assertEquals(i, r.in(THR));
        assertEquals(0x60, r.in(LSR));
        r.uart.receive(7);
        r.out(IIR, 0x03); // clear the receive FIFO
        assertEquals(0x60, r.in(LSR));
        r.uart.receive(8);
        r.out(IIR, 0x00); // disable: FIFOs cleared
        assertEquals(0x60, r.in(LSR));
        assertEquals(0x01, r.in(IIR));
    }

    @Test
    void receiveInterruptAtTriggerLevelAndTimeoutBelow() {
        Rig r = new Rig();
        r.out(IIR, 0x41); // FIFO, trigger 4
        r.out(MCR, 0x08);
        r.out(IER, 0x01);
        assertFalse(r.irq());
        r.uart.receive('a');
        assertTrue(r.irq());
        assertEquals(0xCC, r.in(IIR), "character timeout, approximated as immediate");
        for (char c : "bcd".toCharArray()) r.uart.receive(c);
        assertEquals(0xC4, r.in(IIR));
        r.in(THR);
        assertEquals(0xCC, r.in(IIR));
        r.in(THR);
        r.in(THR);
        r.in(THR);
        assertEquals(0xC1, r.in(IIR));
        assertFalse(r.irq());
    }

    @Test
    void receiveWithoutFifoHoldsOneByte() {
        Rig r = new Rig();
        r.out(MCR, 0x08);
        r.out(IER, 0x01);
        assertTrue(r.uart.receive('q'));
        assertFalse(r.uart.receive('r'));
        assertTrue(r.irq());
        assertEquals(0x04, r.in(IIR));
        assertEquals('q', r.in(THR));
        assertFalse(r.irq());
        assertEquals(0, r.in(THR), "nothing more to read");
    }

    @Test
    void threInterruptSemantics() {
        Rig r = new Rig();
        r.out(MCR, 0x0B);
        r.out(IER, 0x02);
        assertTrue(r.irq(), "enabling with THR empty raises THRE");
        assertEquals(0x02, r.in(IIR));
        assertFalse(r.irq(), "reading IIR acknowledges it");
        assertEquals(0x01, r.in(IIR));
        r.out(THR, 'x');
        assertTrue(r.irq(), "THR empties again at once");
        r.out(IER, 0x02); // already enabled: no new interrupt
        assertEquals(0x02, r.in(IIR));
        r.out(IER, 0x02);
        assertFalse(r.irq());
        r.out(IER, 0x00);
        r.out(IER, 0x02);
        assertTrue(r.irq(), "re-enabling raises it again");
        r.out(IER, 0x00);
        assertFalse(r.irq());
    }

    @Test
    void out2GatesTheIrqLine() {
        Rig r = new Rig();
        r.out(IER, 0x02);
        assertFalse(r.irq());
        assertEquals(0x02, r.in(IIR) & 0x0F, "pending inside the chip");
        r.out(THR, 'y');
        r.out(MCR, 0x08);
        assertTrue(r.irq());
        r.out(MCR, 0x18);
        assertFalse(r.irq(), "loopback forces the OUT2 pin inactive");
    }

    @Test
    void interruptPriorities() {
        Rig r = new Rig();
        r.out(MCR, 0x18);
        r.out(IER, 0x0F);
        r.out(THR, 1);
        r.out(THR, 2); // overrun
        assertEquals(0x06, r.in(IIR), "line status first");
        r.in(LSR);
        assertEquals(0x04, r.in(IIR), "then received data");
        r.in(THR);
        assertEquals(0x02, r.in(IIR), "then THRE");
        r.out(MCR, 0x19); // DTR: delta DSR
        assertEquals(0x00, r.in(IIR), "then modem status");
        r.in(MSR);
        assertEquals(0x01, r.in(IIR));
    }

    @Test
    void scratchRegister() {
        Rig r = new Rig();
        r.out(SCR, 0x5A);
        assertEquals(0x5A, r.in(SCR));
    }

    @Test
    void nonsenseNeverThrows() {
        Rig r = new Rig();
        for (int v = 0; v < 256; v++) {
            for (int p = BASE; p < BASE + 8; p++) {
                r.out(p, v);
                r.in(p);
            }
            r.uart.receive(v);
        }
        r.uart.outByte(0x99, 0);
        assertEquals(0xFF, r.uart.inByte(0x99));
    }

    @Test
    void saveRestoreContract() {
        PersistentContract.of(Rig::new, r -> List.of(r.irqs, r.uart))
                .prepare(r -> {
                    r.out(IIR, 0x81);
                    r.out(MCR, 0x0B);
                    r.out(IER, 0x0B);
                    r.out(LCR, 0x83);
                    r.out(THR, 0x0C);
                    r.out(LCR, 0x03);
                    r.out(SCR, 0x42);
                    r.in(IIR);
                    for (int i = 0; i < 5; i++) r.uart.receive('0' + i);
                    r.in(THR);
                })
                .mutate(r -> {
                    r.out(IIR, 0x07);
                    r.out(MCR, 0x1F);
                    r.out(THR, 'z');
                })
                .mutate(r -> {
                    while (r.uart.receive('x')) { }
                    r.out(IER, 0);
                })
                .observe(r -> {
                    List<Object> seen = new ArrayList<>();
                    seen.add(r.irq());
                    seen.add(r.uart.rxSpace());
                    for (int p = BASE + 1; p < BASE + 8; p++) seen.add(r.in(p));
                    for (int i = 0; i < 6; i++) seen.add(r.in(THR));
                    seen.add(r.in(IIR));
                    r.output.clear();
                    r.out(THR, '!');
                    seen.add(List.copyOf(r.output));
                    return seen;
                })
                .verify();
    }
}

package io.mucheckpoint.cpu;

import java.util.BitSet;

/**
 * Physical memory as one flat array, for testing the processor alone. Every page is RAM; watched
 * code pages are written through the slow path, which reports them to the processor.
 */
public final class FlatMemory implements PhysicalMemory {
    private final byte[] ram;
    private final BitSet watched = new BitSet();
    private MemoryClient client;
    /** Every {@link #write} (address, size, value), when non-null: the physical-write door's log. */
    public java.util.List<int[]> writeLog;

    public FlatMemory(int size) {
        ram = new byte[size];
    }

    @Override
    public byte[] backing() {
        return ram;
    }

    @Override
    public int readBase(int page) {
        return (long) page << 12 < ram.length ? page << 12 : -1;
    }

    @Override
    public int writeBase(int page) {
        if ((long) page << 12 >= ram.length || watched.get(page)) return -1;
        return page << 12;
    }

    @Override
    public int read(int paddr, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            long a = (paddr & 0xFFFFFFFFL) + i;
            v |= (a < ram.length ? ram[(int) a] & 0xFF : 0xFF) << (8 * i);
        }
        return v;
    }

    @Override
    public void write(int paddr, int size, int value) {
        if (writeLog != null) writeLog.add(new int[] {paddr, size, value});
        for (int i = 0; i < size; i++) {
            long a = (paddr & 0xFFFFFFFFL) + i;
            if (a < ram.length) ram[(int) a] = (byte) (value >>> (8 * i));
        }
        if (client != null && watched.get(paddr >>> 12)) client.codeModified(paddr, size);
    }

    @Override
    public void watchCode(int page, boolean watch) {
        if (watch && !watched.get(page) && client != null) client.revokeWrites();
        watched.set(page, watch);
    }

    /** Whether the processor has asked to hear about writes to {@code page} (it holds decoded code). */
    public boolean watched(int page) {
        return watched.get(page);
    }

    @Override
    public void attach(MemoryClient client) {
        this.client = client;
    }

    public void poke(int addr, int b) {
        write(addr, 1, b);
    }

    public int peek(int addr) {
        return ram[addr] & 0xFF;
    }
}

package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.disk.DiskImage;
import io.mucheckpoint.vmm.disk.DiskOverlay;
import io.mucheckpoint.vmm.mem.GuestMemory;
import io.mucheckpoint.vmm.state.Persistent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A virtio block device in the legacy virtio-PCI interface (vendor 1AF4, device 1001, subsystem 2):
 * the register block at the start of the I/O BAR, one request queue of {@value #QUEUE_SIZE}
 * entries, INTx through the PCI function's interrupt line. This is what Linux's virtio_pci driver
 * (with CONFIG_VIRTIO_PCI_LEGACY) and QEMU's transitional virtio-blk-pci both speak.
 *
 * <p>Time is the guest's, never the host's (design brief, invariant 1). A notify starts a batch of
 * every request then available; the batch completes at a virtual-time deadline computed from a
 * fixed model ({@value #REQUEST_NANOS} ns per request plus {@value #NANOS_PER_KIB} ns per KiB, an
 * SSD-like 400 MB/s), and only then are the data moved, the used ring written and the interrupt
 * raised. Host disk speed therefore never changes what the guest sees, and the batch in flight is
 * all in the device's saved state: a checkpoint between notify and completion replays the same.
 *
 * <p>Offered features: SEG_MAX, BLK_SIZE (512), FLUSH, and RO for a read-only drive. Requests: IN,
 * OUT, FLUSH and GET_ID; others complete with UNSUPP. Not offered: indirect descriptors, event
 * index, multiple queues, discard, topology.
 */
public final class VirtioBlk implements IoDevice, Clocked, Persistent<VirtioBlk.State> {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlk.class);
    public static final int QUEUE_SIZE = 128;
    public static final int BAR_SIZE = 64;
    static final long REQUEST_NANOS = 20_000;
    static final long NANOS_PER_KIB = 2_560;

    // Legacy register block offsets.
    static final int HOST_FEATURES = 0x00, GUEST_FEATURES = 0x04, QUEUE_PFN = 0x08, QUEUE_NUM = 0x0C, QUEUE_SEL = 0x0E,
            QUEUE_NOTIFY = 0x10, STATUS = 0x12, ISR = 0x13, CONFIG = 0x14;
    static final int STATUS_DRIVER_OK = 4;
    static final int F_SEG_MAX = 1 << 2, F_RO = 1 << 5, F_BLK_SIZE = 1 << 6, F_FLUSH = 1 << 9;
    static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
    static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    private static final int ID_BYTES = 20;

    /**
     * The device's registers and the batch in flight: available entries {@code [lastAvail,
     * batchEnd)} complete at tick {@code deadline} (Long.MAX_VALUE: none in flight).
     */
    public record State(int guestFeatures, int queuePfn, int queueSelect, int status, int isr, int lastAvail,
                        int batchEnd, long deadline) {}

    private final GuestMemory memory;
    private final DiskOverlay disk;
    private final boolean readOnly;
    private final VirtualClock clock;
    private final IrqSink irq;
    private final int irqLine;
    private final byte[] serial;
    private final LogOnce log = new LogOnce(LOG);
    private PciFunction pci;
    private byte[] buffer = new byte[64 << 10];
    private boolean lineHigh;

    private int guestFeatures;
    private int queuePfn;
    private int queueSelect;
    private int status;
    private int isr;
    private int lastAvail;
    private int batchEnd;
    private long deadline = Long.MAX_VALUE;
    private long requests;
    private long bytesRead;
    private long bytesWritten;

    public VirtioBlk(GuestMemory memory, DiskOverlay disk, boolean readOnly, VirtualClock clock, IrqSink irq, int irqLine,
                     String serial) {
        this.memory = memory;
        this.disk = disk;
        this.readOnly = readOnly;
        this.clock = clock;
        this.irq = irq;
        this.irqLine = irqLine;
        this.serial = serial.getBytes(StandardCharsets.US_ASCII);
    }

    /** The PCI identity of a virtio-blk function with its BAR at {@code ioBase} and INTA# on {@code irqLine}. */
    public static PciFunction.Identity pciIdentity(int ioBase, int irqLine) {
        return new PciFunction.Identity("virtio-blk", 0x1AF4, 0x1001, 0x010000, 0, 0x1AF4, 2, BAR_SIZE, ioBase, 1, irqLine);
    }

    /** Connects the device to its PCI function (bus mastering and INTx enable come from its command register). */
    public void connect(PciFunction f) {
        this.pci = f;
        f.setInterruptStatus(() -> isr != 0);
        f.addListener(this::updateLine);
    }

    public DiskOverlay disk() {
        return disk;
    }

    /** Requests completed, and bytes moved, since the machine was built (statistics, not state). */
    public long requests() {
        return requests;
    }

    public long bytesRead() {
        return bytesRead;
    }

    public long bytesWritten() {
        return bytesWritten;
    }

    // --- the register block ---------------------------------------------------------------------

    @Override
    public int in(int offset, int size) {
        if (offset >= CONFIG) return readConfig(offset - CONFIG, size);
        return switch (offset) {
            case HOST_FEATURES -> hostFeatures();
            case GUEST_FEATURES -> guestFeatures;
            case QUEUE_PFN -> queueSelect == 0 ? queuePfn : 0;
            case QUEUE_NUM -> queueSelect == 0 ? QUEUE_SIZE : 0;
            case QUEUE_SEL -> queueSelect;
            case STATUS -> status;
            case ISR -> {
                int v = isr;
                isr = 0;
                updateLine();
                yield v;
            }
            default -> 0;
        };
    }

    @Override
    public void out(int offset, int size, int value) {
        switch (offset) {
            case GUEST_FEATURES -> guestFeatures = value & hostFeatures();
            case QUEUE_PFN -> {
                if (queueSelect != 0) return;
                queuePfn = value;
                lastAvail = batchEnd = 0;
                deadline = Long.MAX_VALUE;
                if (queuePfn != 0 && !queue().inRam()) {
                    log.info("pfn", "virtio-blk: the guest put the queue at 0x{}, outside RAM; it will not be served",
                            Long.toHexString((value & 0xFFFFFFFFL) << 12));
                }
            }
            case QUEUE_SEL -> queueSelect = value & 0xFFFF;
            case QUEUE_NOTIFY -> {
                if ((value & 0xFFFF) == 0 && deadline == Long.MAX_VALUE) startBatch(clock.now());
            }
            case STATUS -> {
                status = value & 0xFF;
                if (status == 0) reset();
            }
            default -> {
                // features, queue size and ISR are read-only; the config space is read-only for blk
            }
        }
    }

    private int hostFeatures() {
        return F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (readOnly ? F_RO : 0);
    }

    private int readConfig(int at, int size) {
        long sectors = disk.bytes() / DiskImage.SECTOR;
        byte[] cfg = new byte[24];
        putLe(cfg, 0, sectors, 8);
        putLe(cfg, 8, 0, 4);               // size_max (not offered)
        putLe(cfg, 12, QUEUE_SIZE - 2, 4); // seg_max: the header and the status take two descriptors
        long cyl = Math.min(65535, sectors / (16 * 63));
        putLe(cfg, 16, cyl, 2);
        cfg[18] = 16;
        cfg[19] = 63;
        putLe(cfg, 20, DiskImage.SECTOR, 4);
        int v = 0;
        for (int i = 0; i < size; i++) {
            int k = at + i;
            v |= (k < cfg.length ? cfg[k] & 0xFF : 0) << (8 * i);
        }
        return v;
    }

    private static void putLe(byte[] b, int at, long v, int n) {
        for (int i = 0; i < n; i++) b[at + i] = (byte) (v >>> (8 * i));
    }

    private void reset() {
        guestFeatures = 0;
        queuePfn = 0;
        queueSelect = 0;
        isr = 0;
        lastAvail = batchEnd = 0;
        deadline = Long.MAX_VALUE;
        updateLine();
    }

    private LegacyVirtqueue queue() {
        return new LegacyVirtqueue(memory, queuePfn, QUEUE_SIZE);
    }

    private boolean serving() {
        return queuePfn != 0 && (status & STATUS_DRIVER_OK) != 0 && pci != null && pci.busMaster() && queue().inRam();
    }

    // --- requests ---------------------------------------------------------------------------------

    /** Takes every available request into a batch and sets its completion deadline from the model. */
    private void startBatch(long now) {
        if (!serving()) return;
        LegacyVirtqueue q = queue();
        int end = q.availIdx();
        if (end == lastAvail) return;
        long nanos = 0;
        for (int i = lastAvail; i != end; i = (i + 1) & 0xFFFF) {
            long bytes = 0;
            try {
                for (LegacyVirtqueue.Segment s : q.chain(q.availHead(i))) bytes += s.len() & 0xFFFFFFFFL;
            } catch (LegacyVirtqueue.BadChain e) {
                // completes (with an error) like any other request
            }
            nanos += REQUEST_NANOS + (bytes * NANOS_PER_KIB >> 10);
        }
        batchEnd = end;
        deadline = now + Math.max(1, clock.fromNanos(nanos));
    }

    @Override
    public long nextDeadline() {
        return deadline;
    }

    @Override
    public void advance(long now) {
        if (now < deadline) return;
        deadline = Long.MAX_VALUE;
        if (!serving()) return;
        LegacyVirtqueue q = queue();
        for (int i = lastAvail; i != batchEnd; i = (i + 1) & 0xFFFF) {
            int head = q.availHead(i);
            q.pushUsed(head, execute(q, head));
            requests++;
        }
        lastAvail = batchEnd;
        if ((q.availFlags() & LegacyVirtqueue.AVAIL_NO_INTERRUPT) == 0) {
            isr |= 1;
            updateLine();
        }
        startBatch(now);
    }

    /** Carries out one request; returns the bytes written into the guest's buffers (for the used ring). */
    private int execute(LegacyVirtqueue q, int head) {
        List<LegacyVirtqueue.Segment> chain;
        try {
            chain = q.chain(head);
        } catch (LegacyVirtqueue.BadChain e) {
            log.info("chain", "virtio-blk: request dropped: {}", e.getMessage());
            return 0;
        }
        long readable = 0, writable = 0;
        for (LegacyVirtqueue.Segment s : chain) {
            if (s.deviceWrites()) writable += s.len() & 0xFFFFFFFFL;
            else readable += s.len() & 0xFFFFFFFFL;
        }
        if (readable < 16 || writable < 1) {
            log.info("shape", "virtio-blk: request dropped: it needs a 16-byte header and a status byte");
            return 0;
        }
        byte[] hdr = new byte[16];
        gather(chain, false, 0, hdr, 16);
        int type = (int) le(hdr, 0, 4);
        long sector = le(hdr, 8, 8);
        long dataLen = type == T_OUT ? readable - 16 : writable - 1;
        int st;
        long written = 1;
        switch (type) {
            case T_IN -> {
                st = checkRange(sector, dataLen);
                if (st == S_OK) {
                    byte[] buf = buffer((int) dataLen);
                    disk.read(sector * DiskImage.SECTOR, buf, 0, (int) dataLen);
                    scatter(chain, 0, buf, (int) dataLen);
                    written += dataLen;
                    bytesRead += dataLen;
                }
            }
            case T_OUT -> {
                st = readOnly ? S_IOERR : checkRange(sector, dataLen);
                if (st == S_OK) {
                    byte[] buf = buffer((int) dataLen);
                    gather(chain, false, 16, buf, (int) dataLen);
                    disk.write(sector * DiskImage.SECTOR, buf, 0, (int) dataLen);
                    bytesWritten += dataLen;
                }
            }
            case T_FLUSH -> st = S_OK; // the overlay is the disk: nothing is cached on the way
            case T_GET_ID -> {
                int n = (int) Math.min(ID_BYTES, dataLen);
                byte[] id = java.util.Arrays.copyOf(serial, ID_BYTES);
                scatter(chain, 0, id, n);
                written += n;
                st = S_OK;
            }
            default -> st = S_UNSUPP;
        }
        writeStatus(chain, writable - 1, st);
        return (int) written;
    }

    private int checkRange(long sector, long len) {
        if (len % DiskImage.SECTOR != 0 || len > Integer.MAX_VALUE - 16) return S_IOERR;
        if (sector < 0 || sector > disk.bytes() / DiskImage.SECTOR) return S_IOERR;
        return sector * DiskImage.SECTOR + len <= disk.bytes() ? S_OK : S_IOERR;
    }

    private byte[] buffer(int n) {
        if (buffer.length < n) buffer = new byte[Integer.highestOneBit(n - 1) << 1];
        return buffer;
    }

    /** Copies {@code len} bytes from the chain's readable (or writable) bytes, starting {@code skip} bytes in. */
    private void gather(List<LegacyVirtqueue.Segment> chain, boolean writable, long skip, byte[] dst, int len) {
        int done = 0;
        for (LegacyVirtqueue.Segment s : chain) {
            if (s.deviceWrites() != writable || done == len) continue;
            long segLen = s.len() & 0xFFFFFFFFL;
            if (skip >= segLen) {
                skip -= segLen;
                continue;
            }
            int n = (int) Math.min(segLen - skip, len - done);
            memory.readBytes(s.addr() + skip, dst, done, n);
            done += n;
            skip = 0;
        }
    }

    /** Copies {@code len} bytes into the chain's writable bytes from offset {@code skip} on, through the memory door. */
    private void scatter(List<LegacyVirtqueue.Segment> chain, long skip, byte[] src, int len) {
        int done = 0;
        for (LegacyVirtqueue.Segment s : chain) {
            if (!s.deviceWrites() || done == len) continue;
            long segLen = s.len() & 0xFFFFFFFFL;
            if (skip >= segLen) {
                skip -= segLen;
                continue;
            }
            int n = (int) Math.min(segLen - skip, len - done);
            memory.writeBytes(s.addr() + skip, src, done, n);
            done += n;
            skip = 0;
        }
    }

    private void writeStatus(List<LegacyVirtqueue.Segment> chain, long at, int st) {
        scatter(chain, at, new byte[] {(byte) st}, 1);
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) v |= (b[at + i] & 0xFFL) << (8 * i);
        return v;
    }

    /** INTx follows the ISR (level-triggered, as a PCI interrupt is), unless the command register disables it. */
    public void updateLine() {
        boolean high = isr != 0 && (pci == null || pci.intxEnabled());
        if (high != lineHigh) {
            lineHigh = high;
            irq.setIrq(irqLine, high);
        }
    }

    @Override
    public State save() {
        return new State(guestFeatures, queuePfn, queueSelect, status, isr, lastAvail, batchEnd, deadline);
    }

    @Override
    public void restore(State s) {
        guestFeatures = s.guestFeatures() & hostFeatures();
        queuePfn = s.queuePfn();
        queueSelect = s.queueSelect() & 0xFFFF;
        status = s.status() & 0xFF;
        isr = s.isr() & 3;
        lastAvail = s.lastAvail() & 0xFFFF;
        batchEnd = s.batchEnd() & 0xFFFF;
        deadline = s.deadline();
        // The line's level is the PIC's input state, restored with the PIC; only remember it here.
        lineHigh = isr != 0 && (pci == null || pci.intxEnabled());
    }
}

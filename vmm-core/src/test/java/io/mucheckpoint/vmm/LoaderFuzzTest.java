package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.vmm.load.LoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutations of every kind of image the VMM loads: a multiboot ELF kernel (the compress
 * workload, and the same kernel turned into an a.out-kludge image), a Linux bzImage and a ROM.
 * Bit flips, byte changes, truncations, extensions, lying size and offset fields in the ELF
 * header, the program headers, the multiboot header and the bzImage setup header, odd command
 * lines and initrds. Every image must either load, and then run a little without a Java exception
 * (the guest may fault, triple-fault or halt), or be rejected with a {@link LoadException} whose
 * message is one line naming the file and what is wrong. Any other exception, an out-of-memory
 * from a size field included, fails the test with the mutation that caused it.
 *
 * <p>{@code -Dfuzz.loader.iterations=N} (default 10,000 per image kind), {@code -Dfuzz.seed=S}.
 */
class LoaderFuzzTest {
    static final long RAM = 4L << 20;
    static final long RUN_INSTRUCTIONS = 20_000;
    private static final int[] INTERESTING = {0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
        0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0x100000, 0xFFF00000, 0xFFFFF000, (int) RAM, (int) RAM - 0x1000, (int) RAM + 1,
        0x40000000, 0x3FFFFFFF};

    /** One mutated image: how to build it, and what was done to it. */
    record Mutant(GuestImage image, String what) {}

    private static long iterations() {
        return Long.getLong("fuzz.loader.iterations", 10_000);
    }

    private static long seed() {
        return Long.getLong("fuzz.seed", 20260511L);
    }

    @Test
    void mutatedMultibootElfKernels() {
        byte[] elf = Workloads.image("compress");
        fuzz("multiboot ELF", rnd -> {
            List<String> what = new ArrayList<>();
            byte[] f = mutateElf(elf, rnd, what);
            return new Mutant(new GuestImage.Multiboot("compress.elf", f, cmdline(rnd, what)), String.join(", ", what));
        });
    }

    @Test
    void mutatedMultibootAoutKludgeKernels() {
        byte[] aout = aoutKludge(Workloads.image("compress"));
        fuzz("multiboot a.out kludge", rnd -> {
            List<String> what = new ArrayList<>();
            byte[] f = aout.clone();
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) f = rnd.nextInt(3) == 0 ? mutateBytes(f, rnd, what) : mutateMultiboot(f, rnd, what, true);
            return new Mutant(new GuestImage.Multiboot("kludge.bin", f, cmdline(rnd, what)), String.join(", ", what));
        });
    }

    @Test
    void mutatedRomImages() {
        byte[] rom = TestImages.rom();
        fuzz("ROM", rnd -> {
            List<String> what = new ArrayList<>();
            byte[] f;
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    int size = new int[] {0, 1, 4095, 4096, 4097, 65535, 65536, 1 << 20, (1 << 20) + 4096, (1 << 20) - 1,
                        (1 << 20) - 4096, 3 << 20, 12288, rnd.nextInt(1 << 21)}[rnd.nextInt(14)];
                    f = new byte[size];
                    if (rnd.nextBoolean()) rnd.nextBytes(f);
                    else if (size >= rom.length) System.arraycopy(rom, 0, f, size - rom.length, rom.length);
                    what.add("size " + size);
                }
                case 1 -> f = mutateBytes(rom.clone(), rnd, what);
                case 2 -> {
                    f = Arrays.copyOf(rom, rnd.nextInt(rom.length + 1));
                    what.add("truncated to " + f.length);
                }
                default -> {
                    f = rom.clone();
                    for (int i = 0; i < 1 + rnd.nextInt(8); i++) f[rom.length - 16 + rnd.nextInt(16)] = (byte) rnd.nextInt(256);
                    what.add("reset vector bytes changed");
                }
            }
            return new Mutant(new GuestImage.Bios("test.rom", f), String.join(", ", what));
        });
    }

    @Test
    void mutatedLinuxBzImages() {
        byte[] bz = TestImages.bzImage();
        fuzz("Linux bzImage", rnd -> {
            List<String> what = new ArrayList<>();
            byte[] f = bz.clone();
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) f = rnd.nextInt(3) == 0 ? mutateBytes(f, rnd, what) : mutateSetupHeader(f, rnd, what);
            byte[] initrd = null;
            switch (rnd.nextInt(5)) {
                case 0 -> {}
                case 1 -> initrd = new byte[0];
                case 2 -> initrd = new byte[rnd.nextInt(64 << 10)];
                case 3 -> initrd = new byte[rnd.nextInt((int) RAM)];
                default -> initrd = new byte[(int) RAM + rnd.nextInt(1 << 20)];
            }
            if (initrd != null) what.add("initrd of " + initrd.length + " bytes");
            return new Mutant(new GuestImage.Linux("bzImage", f, initrd, cmdline(rnd, what)), String.join(", ", what));
        });
    }

    /**
     * The same mutations on a real kernel, the Debian bzImage that guests/linux/build.sh puts in
     * /var/cache/mucheckpoint/linux (skipped when it is not there): {@code -Dfuzz.loader.linux.iterations=N},
     * default 1,000 (each builds a 32 MiB machine).
     */
    @Test
    void mutatedRealLinuxKernel() throws Exception {
        java.nio.file.Path kernel = java.nio.file.Paths.get(System.getProperty("vmm.linux.dir",
                System.getenv().getOrDefault("VMM_LINUX_CACHE", "/var/cache/mucheckpoint/linux")), "bzImage");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(kernel), "no Linux kernel at " + kernel);
        byte[] bz = java.nio.file.Files.readAllBytes(kernel);
        fuzz("Debian bzImage", Long.getLong("fuzz.loader.linux.iterations", 1000), 32L << 20, rnd -> {
            List<String> what = new ArrayList<>();
            byte[] f = bz.clone();
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) {
                if (rnd.nextInt(4) == 0) {
                    // Bytes of the setup code and header only: the compressed kernel is not parsed by the loader.
                    byte[] head = mutateBytes(Arrays.copyOf(f, Math.min(f.length, 0x1100)), rnd, what);
                    byte[] g = Arrays.copyOf(head, head.length + Math.max(0, f.length - 0x1100));
                    if (f.length > 0x1100) System.arraycopy(f, 0x1100, g, head.length, f.length - 0x1100);
                    f = g;
                } else {
                    f = mutateSetupHeader(f, rnd, what);
                }
            }
            return new Mutant(new GuestImage.Linux("bzImage", f, null, "console=ttyS0"), String.join(", ", what));
        });
    }

    /** The unmutated images load and run to their end, so the mutations start from something that works. */
    @Test
    void theUnmutatedImagesWork() throws Exception {
        for (GuestImage img : List.of(
                new GuestImage.Multiboot("kludge.bin", aoutKludge(Workloads.image("compress")), "guests/build/compress.elf size=test"),
                new GuestImage.Bios("test.rom", TestImages.rom()),
                new GuestImage.Linux("bzImage", TestImages.bzImage(), new byte[4096], "console=ttyS0"))) {
            ConsoleCapture out = new ConsoleCapture();
            Machine m = new Machine(MachineConfig.defaults().withRam(48L << 20), img, out, b -> {});
            RunResult r = m.run(Long.MAX_VALUE, 200_000_000);
            assertEquals(RunResult.Kind.EXIT, r.kind(), img.name() + ": " + r.message());
            assertEquals(0, r.exitStatus(), img.name() + " printed: " + out.text());
            if (img instanceof GuestImage.Multiboot) assertEquals(Workloads.expected("compress", "test"), out.text());
            else assertEquals(TestImages.GREETING, out.text(), img.name());
        }
    }

    // --- the harness --------------------------------------------------------------------------

    private void fuzz(String kind, Function<Random, Mutant> make) {
        fuzz(kind, iterations(), RAM, make);
    }

    private void fuzz(String kind, long n, long ram, Function<Random, Mutant> make) {
        long seed = seed() ^ kind.hashCode();
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, String> failures = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        for (long i = 0; i < n && failures.size() < 20; i++) {
            Mutant mu = make.apply(new Random(seed * 1_000_003L + i));
            String outcome;
            try {
                outcome = loadAndRun(mu.image(), ram);
            } catch (LoadException e) {
                String msg = e.getMessage();
                String problem = badMessage(msg, mu.image().name());
                if (problem != null) failures.putIfAbsent("message " + problem, "case " + i + " (" + mu.what() + "): " + problem + ": " + msg);
                outcome = "rejected: " + msg.replaceAll("[0-9]+|0x[0-9a-f]+", "#");
            } catch (Throwable t) {
                StackTraceElement top = t.getStackTrace().length > 0 ? t.getStackTrace()[0] : null;
                failures.putIfAbsent(t.getClass().getName() + " at " + top, "case " + i + " (" + mu.what() + "): " + t + " at " + top);
                outcome = "CRASH";
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        System.out.printf("loader fuzzing, %s: %d mutations in %.1f s%n", kind, n, (System.nanoTime() - t0) / 1e9);
        outcomes.forEach((k, v) -> System.out.printf("  %6d  %s%n", v, k));
        if (!failures.isEmpty()) fail(kind + ": " + failures.size() + " distinct failures:\n" + String.join("\n", failures.values()));
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.startsWith("rejected")), "some mutants are rejected");
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.startsWith("loaded")), "some mutants load");
    }

    /** Builds the machine and runs it a little; returns how it went (any guest outcome is fine). */
    private static String loadAndRun(GuestImage image, long ram) throws LoadException {
        Machine m = new Machine(MachineConfig.defaults().withRam(ram), image, b -> {}, b -> {});
        RunResult r = m.run(Long.MAX_VALUE, m.cpu.icount() + RUN_INSTRUCTIONS);
        return "loaded, then " + r.kind();
    }

    /** What is wrong with a LoadException's message, or null: one line, naming the file and the problem. */
    static String badMessage(String msg, String name) {
        if (msg == null || msg.isBlank()) return "empty message";
        if (msg.contains("\n") || msg.contains("\r")) return "more than one line";
        if (!msg.startsWith(name + ": ") && !msg.startsWith("initrd")) return "does not name the file";
        if (msg.length() < name.length() + 12) return "too short to say what is wrong";
        if (msg.contains("Exception") || msg.contains("null")) return "reads like a stack trace";
        return null;
    }

    // --- mutations ----------------------------------------------------------------------------

    private static int interesting(Random rnd, int fileLength) {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextInt();
            case 1 -> fileLength + rnd.nextInt(9) - 4;
            case 2 -> rnd.nextInt(0x10000);
            default -> INTERESTING[rnd.nextInt(INTERESTING.length)];
        };
    }

    private static void put(byte[] f, int at, int size, int v) {
        for (int i = 0; i < size && at + i < f.length; i++) if (at + i >= 0) f[at + i] = (byte) (v >>> (8 * i));
    }

    private static int get32(byte[] f, int at) {
        return at + 4 <= f.length && at >= 0 ? ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getInt(at) : 0;
    }

    /** Bit flips, byte changes, truncation or extension anywhere (biased towards the headers). */
    static byte[] mutateBytes(byte[] f, Random rnd, List<String> what) {
        switch (rnd.nextInt(4)) {
            case 0 -> {
                int n = 1 + rnd.nextInt(16);
                for (int i = 0; i < n && f.length > 0; i++) {
                    int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(f.length, 0x1100)) : rnd.nextInt(f.length);
                    f[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                what.add(n + " bit flips");
                return f;
            }
            case 1 -> {
                int n = 1 + rnd.nextInt(8);
                for (int i = 0; i < n && f.length > 0; i++) {
                    int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(f.length, 0x1100)) : rnd.nextInt(f.length);
                    f[at] = (byte) INTERESTING[rnd.nextInt(INTERESTING.length)];
                }
                what.add(n + " bytes changed");
                return f;
            }
            case 2 -> {
                int len = rnd.nextBoolean() ? rnd.nextInt(f.length + 1) : rnd.nextInt(Math.min(f.length, 0x1100) + 1);
                what.add("truncated to " + len);
                return Arrays.copyOf(f, len);
            }
            default -> {
                int extra = rnd.nextInt(4) == 0 ? rnd.nextInt(1 << 20) : rnd.nextInt(4096);
                byte[] g = Arrays.copyOf(f, f.length + extra);
                if (rnd.nextBoolean()) for (int i = f.length; i < g.length; i += 1 + rnd.nextInt(64)) g[i] = (byte) rnd.nextInt(256);
                what.add("extended by " + extra);
                return g;
            }
        }
    }

    private static byte[] mutateElf(byte[] elf, Random rnd, List<String> what) {
        byte[] f = elf.clone();
        int n = 1 + rnd.nextInt(3);
        for (int k = 0; k < n; k++) {
            switch (rnd.nextInt(4)) {
                case 0 -> f = mutateBytes(f, rnd, what);
                case 1 -> {
                    // ELF header: ident class/data, type, machine, entry, phoff, phentsize, phnum.
                    int[][] fields = {{4, 1}, {5, 1}, {16, 2}, {18, 2}, {24, 4}, {28, 4}, {42, 2}, {44, 2}};
                    int[] fl = fields[rnd.nextInt(fields.length)];
                    int v = interesting(rnd, f.length);
                    put(f, fl[0], fl[1], v);
                    what.add(String.format("ELF header @%d = 0x%x", fl[0], v));
                }
                case 2 -> {
                    // A program header field: type, offset, vaddr, paddr, filesz, memsz, flags, align.
                    int phoff = get32(f, 28);
                    int ph = rnd.nextInt(4);
                    int field = rnd.nextInt(8) * 4;
                    int v = interesting(rnd, f.length);
                    put(f, phoff + ph * 32 + field, 4, v);
                    what.add(String.format("program header %d field @%d = 0x%x", ph, field, v));
                }
                default -> f = mutateMultiboot(f, rnd, what, false);
            }
        }
        return f;
    }

    /** Changes a field of the multiboot header, fixing the checksum up or not. */
    static byte[] mutateMultiboot(byte[] f, Random rnd, List<String> what, boolean kludge) {
        int h = kludge ? 0 : 0x1000;
        if (h + 32 > f.length) return mutateBytes(f, rnd, what);
        int field = rnd.nextInt(8) * 4;
        int v = field == 4 && rnd.nextBoolean() ? get32(f, h + 4) ^ (1 << rnd.nextInt(32)) : interesting(rnd, f.length);
        if (field == 0 && rnd.nextBoolean()) v = 0x1BADB002;
        put(f, h + field, 4, v);
        boolean fix = rnd.nextInt(4) != 0;
        if (fix) put(f, h + 8, 4, -(get32(f, h) + get32(f, h + 4)));
        what.add(String.format("multiboot header @%d = 0x%x%s", field, v, fix ? " (checksum fixed)" : ""));
        if (!kludge && rnd.nextInt(4) == 0) {
            f[0] = 0; // no longer an ELF file: the loader must use (or refuse) the a.out kludge
            what.add("ELF magic broken");
        }
        return f;
    }

    /**
     * The compress kernel as an a.out-kludge image: a 32-byte multiboot header with the address
     * fields at file offset 0, loaded at 0xFF000 so that the kernel's text (file offset 0x1000)
     * lands at 1 MiB where it was linked; the file ends with .data, the loader zeroes the bss.
     */
    static byte[] aoutKludge(byte[] elf) {
        byte[] f = new byte[0x6002];
        System.arraycopy(elf, 0x1000, f, 0x1000, f.length - 0x1000);
        put(f, 0, 4, 0x1BADB002);
        put(f, 4, 4, 0x10003);
        put(f, 8, 4, -(0x1BADB002 + 0x10003));
        put(f, 12, 4, 0xFF000);           // header_addr
        put(f, 16, 4, 0xFF000);           // load_addr
        put(f, 20, 4, 0xFF000 + f.length); // load_end_addr
        put(f, 24, 4, 0x11A000);          // bss_end_addr
        put(f, 28, 4, get32(elf, 24));    // entry
        return f;
    }

    /** Changes a field of the bzImage setup header, often to a lying size. */
    static byte[] mutateSetupHeader(byte[] f, Random rnd, List<String> what) {
        // setup_sects, boot_flag, jump/header length, HdrS, version, loadflags, code32_start,
        // initrd_addr_max, cmdline_size, init_size, and a few more.
        int[][] fields = {{0x1F1, 1}, {0x1FE, 2}, {0x201, 1}, {0x202, 4}, {0x206, 2}, {0x211, 1}, {0x214, 4},
            {0x22C, 4}, {0x238, 4}, {0x260, 4}, {0x230, 4}, {0x234, 1}, {0x248, 4}, {0x24C, 4}, {0x258, 8}};
        int[] fl = fields[rnd.nextInt(fields.length)];
        int v = interesting(rnd, f.length);
        put(f, fl[0], Math.min(fl[1], 4), v);
        what.add(String.format("setup header @0x%x = 0x%x", fl[0], v));
        return f;
    }

    private static String cmdline(Random rnd, List<String> what) {
        switch (rnd.nextInt(10)) {
            case 0 -> {
                int n = rnd.nextInt(20000);
                StringBuilder b = new StringBuilder(n);
                for (int i = 0; i < n; i++) b.append((char) (32 + rnd.nextInt(95)));
                what.add("command line of " + n + " characters");
                return b.toString();
            }
            case 1 -> {
                what.add("command line with NUL and non-ASCII");
                return "size=test \u0000 \u00e9\u4e2d\ud83d\ude00 seed=" + rnd.nextInt();
            }
            case 2 -> {
                return "";
            }
            default -> {
                return "guests/build/compress.elf size=test";
            }
        }
    }
}

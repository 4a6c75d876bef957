package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.GuestImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The options that choose and configure the guest, shared by run and console. */
final class GuestOptions {
    /** The command these options are part of: which of them the user gave. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Parameters(index = "0", arity = "0..1", paramLabel = "WORKLOAD",
            description = "A bundled workload to run (see vmm workloads); default: the default guest.")
    String workload;

    @Option(names = "--kernel", paramLabel = "ELF", description = "A multiboot v1 ELF kernel to boot.")
    Path kernel;

    @Option(names = "--append", paramLabel = "STRING",
            description = "The kernel command line (bundled workloads take size=test|bench iters=N seed=S).")
    String append;

    @Option(names = "--bios", paramLabel = "ROM", description = "A ROM image (4 KiB to 1 MiB) entered at the reset vector F000:FFF0; mapped below 4 GiB and, its last 128 KiB, below 1 MiB, where writes are ignored.")
    Path bios;

    @Option(names = "--flat", paramLabel = "FILE@ADDR",
            description = "A raw binary loaded at ADDR (hex 0x.. or decimal); below 1 MiB it starts in real mode.")
    String flat;

    @Option(names = "--linux", paramLabel = "BZIMAGE",
            description = "A Linux bzImage, booted by the 32-bit boot protocol (give it --ram 256M; see docs/linux.md).")
    Path linux;

    /** The guest is a Linux kernel (--linux). */
    /**
     * The console detector a --console-detect value asks for ({@code spec} null: the Linux one for a
     * Linux guest), or null for none; a bad value is a usage error.
     */
    io.mucheckpoint.recovery.ConsolePatternDetector consoleDetector(String spec) {
        if (spec == null) spec = linuxGuest() ? "linux" : "";
        if (spec.isEmpty() || spec.equals("none")) return null;
        try {
            return io.mucheckpoint.recovery.ConsolePatternDetector.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, "--console-detect: " + e.getMessage());
        }
    }

    boolean linuxGuest() {
        return linux != null;
    }

    @Option(names = "--initrd", paramLabel = "FILE", description = "The Linux initial ramdisk (with --linux).")
    Path initrd;

    @Option(names = "--ram", paramLabel = "SIZE", defaultValue = "64M",
            description = "Guest RAM, up to 1G (default: ${DEFAULT-VALUE}).")
    String ram;

    @Option(names = "--ips", paramLabel = "COUNT", defaultValue = "100M",
            description = "Guest instructions per second of guest time: the virtual clock's rate (default: ${DEFAULT-VALUE}).")
    String ips;

    /**
     * The translator's setting for every processor this command makes (a run, a console, each
     * machine of a campaign): it is read when a processor is created, so the option sets the
     * process-wide property the processor reads.
     */
    @Option(names = "--translate", paramLabel = "off|on|all|N", defaultValue = "on",
            description = "Compile hot guest code to JVM bytecode: on (blocks that ran 200 times), all (every block"
                    + " on its first run), N (after N runs) or off (the interpreter alone). Changes speed only,"
                    + " never what the guest does (default: ${DEFAULT-VALUE}; off for vmm inject, whose every injection"
                    + " is a new machine).")
    String translate;

    /** Applies --translate (from image(), which every command that makes a machine calls first). */
    void applyTranslate() {
        if (!translate.matches("off|on|all|[1-9][0-9]{0,8}")) {
            throw new VmmException(ExitStatus.USAGE, "--translate takes off, on, all or a count of runs, not '" + translate + "'");
        }
        System.setProperty("vmm.translate", translate);
    }

    @Option(names = "--reboot", description = "Reboot the guest on a triple fault or reset request instead of stopping.")
    boolean reboot;

    @Option(names = "--drive", paramLabel = "FILE[,readonly][,writeback][,format=raw]",
            description = "A raw disk image as a virtio-blk disk (repeatable, up to 4). The file is never written unless"
                    + " ,writeback is given: writes go to an in-memory overlay that rolls back with the checkpoints,"
                    + " and ,writeback copies it into the file at exit. See docs/disk.md.")
    java.util.List<String> drive = new java.util.ArrayList<>();

    java.util.List<io.mucheckpoint.vmm.disk.DriveConfig> drives() {
        if (drive.size() > io.mucheckpoint.vmm.MachineConfig.MAX_DRIVES) {
            throw new VmmException(ExitStatus.USAGE, "at most " + io.mucheckpoint.vmm.MachineConfig.MAX_DRIVES + " --drive options");
        }
        java.util.List<io.mucheckpoint.vmm.disk.DriveConfig> out = new java.util.ArrayList<>();
        for (String spec : drive) {
            io.mucheckpoint.vmm.disk.DriveConfig d = parse(() -> io.mucheckpoint.vmm.disk.DriveConfig.parse(spec), "--drive");
            if (Files.isDirectory(d.file())) throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + d.file() + ": it is a directory");
            if (!Files.exists(d.file())) throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + d.file() + ": no such file");
            if (!Files.isReadable(d.file())) throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + d.file() + ": permission denied");
            out.add(d);
        }
        return out;
    }

    /** Whether the user gave {@code option} (rather than its default applying). */
    boolean given(String option) {
        return command != null && command.commandLine() != null && command.commandLine().getParseResult() != null
                && command.commandLine().getParseResult().hasMatchedOption(option);
    }

    GuestImage image() {
        applyTranslate();
        int chosen = (workload != null ? 1 : 0) + (kernel != null ? 1 : 0) + (bios != null ? 1 : 0) + (flat != null ? 1 : 0)
                + (linux != null ? 1 : 0);
        if (chosen > 1) throw new VmmException(ExitStatus.USAGE, "choose one guest: a workload name, --kernel, --bios, --flat or --linux");
        if (initrd != null && linux == null) throw new VmmException(ExitStatus.USAGE, "--initrd goes with --linux");
        if (linux != null) {
            byte[] rd = initrd != null ? read(initrd) : null;
            return new GuestImage.Linux(linux.toString(), read(linux), rd, append != null ? append : "console=ttyS0");
        }
        if (bios != null) {
            if (append != null) throw new VmmException(ExitStatus.USAGE, "--append applies to --kernel or a workload, not --bios");
            return new GuestImage.Bios(bios.toString(), read(bios));
        }
        if (flat != null) {
            int at = flat.lastIndexOf('@');
            if (at <= 0) throw new VmmException(ExitStatus.USAGE, "--flat takes FILE@ADDR, e.g. boot.bin@0x7c00");
            Path file = Paths.get(flat.substring(0, at));
            long addr;
            try {
                addr = Long.decode(flat.substring(at + 1));
            } catch (NumberFormatException e) {
                throw new VmmException(ExitStatus.USAGE, "'" + flat.substring(at + 1) + "' is not an address (use 0x7c00 or 31744)");
            }
            return new GuestImage.Flat(file.toString(), read(file), addr);
        }
        if (kernel != null) {
            String cmd = kernel + (append != null && !append.isEmpty() ? " " + append : "");
            return new GuestImage.Multiboot(kernel.toString(), read(kernel), cmd);
        }
        String name = workload != null ? workload : BundledGuests.defaultGuest().name();
        if (!BundledGuests.exists(name) && (name.contains("/") || name.endsWith(".elf") || Files.isRegularFile(Paths.get(name)))) {
            throw new VmmException(ExitStatus.USAGE, "no bundled workload named '" + name + "': to boot a kernel file, use --kernel "
                    + name + " (vmm workloads lists the bundled ones)");
        }
        byte[] elf = BundledGuests.image(name);
        String cmd = name + ".elf" + (append != null && !append.isEmpty() ? " " + append : "");
        return new GuestImage.Multiboot(name + ".elf", elf, cmd);
    }

    long ramBytes() {
        long bytes = parse(() -> Units.size(ram), "--ram");
        if (bytes < (2 << 20) || bytes > (1L << 30) || (bytes & 0xFFF) != 0) {
            throw new VmmException(ExitStatus.USAGE, "--ram must be a multiple of 4K between 2M and 1G (got " + ram + ")");
        }
        return bytes;
    }

    long ticksPerSecond() {
        long n = parse(() -> Units.count(ips), "--ips");
        if (n < 1000) throw new VmmException(ExitStatus.USAGE, "--ips must be at least 1000");
        return n;
    }

    static <T> T parse(java.util.function.Supplier<T> f, String option) {
        try {
            return f.get();
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, option + ": " + e.getMessage());
        }
    }

    static byte[] read(Path p) {
        try {
            if (Files.isDirectory(p)) throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + p + ": it is a directory");
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + p + ": no such file");
        } catch (IOException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + p + ": " + e.getMessage());
        }
    }
}

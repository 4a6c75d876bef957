package io.mucheckpoint.vmm.disk;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * One disk drive of the machine: a raw image file, and what may happen to it.
 *
 * <p>The image itself is never written during a run: the guest's writes go to an in-memory overlay
 * (like QEMU's {@code -snapshot}), which rolls back with the checkpoints. {@code writeback} copies
 * the overlay into the file when the run ends; {@code readOnly} presents a read-only disk to the
 * guest (its writes fail with an I/O error).
 */
public record DriveConfig(Path file, boolean readOnly, boolean writeback) {
    public DriveConfig {
        if (readOnly && writeback) throw new IllegalArgumentException("a drive cannot be both readonly and writeback");
    }

    /**
     * Parses QEMU-like drive specifications: {@code FILE[,readonly][,writeback][,format=raw]}, where
     * FILE may also be given as {@code file=FILE} and {@code readonly=on|off} is accepted too.
     */
    public static DriveConfig parse(String spec) {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("expected FILE[,readonly][,writeback][,format=raw]");
        String[] parts = spec.split(",");
        String file = null;
        boolean readOnly = false;
        boolean writeback = false;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            String key = eq < 0 ? p : p.substring(0, eq);
            String value = eq < 0 ? null : p.substring(eq + 1);
            switch (key) {
                case "file" -> file = value;
                case "readonly" -> readOnly = onOff(value, "readonly");
                case "writeback" -> writeback = onOff(value, "writeback");
                case "format" -> {
                    if (!"raw".equals(value)) {
                        throw new IllegalArgumentException("format '" + value + "' is not supported (only raw images)");
                    }
                }
                case "if" -> {
                    if (!"virtio".equals(value)) throw new IllegalArgumentException("if=" + value + ": the only disk interface is virtio");
                }
                default -> {
                    if (i == 0 && eq < 0) file = p;
                    else throw new IllegalArgumentException("unknown drive option '" + p + "' (expected readonly, writeback or format=raw)");
                }
            }
        }
        if (file == null || file.isEmpty()) throw new IllegalArgumentException("no image file given");
        return new DriveConfig(Paths.get(file), readOnly, writeback);
    }

    private static boolean onOff(String value, String key) {
        if (value == null || value.equals("on")) return true;
        if (value.equals("off")) return false;
        throw new IllegalArgumentException(key + "=" + value + ": expected on or off");
    }

    /** The specification that parses back to this drive. */
    public String spec() {
        return file + (readOnly ? ",readonly" : "") + (writeback ? ",writeback" : "");
    }
}

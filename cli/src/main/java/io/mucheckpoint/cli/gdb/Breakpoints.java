package io.mucheckpoint.cli.gdb;

import java.util.TreeSet;

/**
 * gdb's breakpoints: Z0 (software) and Z1 (hardware), both on linear addresses and both done by the
 * processor's breakpoint check, so no guest byte is ever patched. They differ only in how a stop
 * at one is reported (swbreak or hwbreak).
 */
final class Breakpoints {
    private final TreeSet<Integer> software = new TreeSet<>();
    private final TreeSet<Integer> hardware = new TreeSet<>();

    void add(boolean hw, int addr) {
        (hw ? hardware : software).add(addr);
    }

    void remove(boolean hw, int addr) {
        (hw ? hardware : software).remove(addr);
    }

    void clear() {
        software.clear();
        hardware.clear();
    }

    boolean isEmpty() {
        return software.isEmpty() && hardware.isEmpty();
    }

    boolean contains(int addr) {
        return software.contains(addr) || hardware.contains(addr);
    }

    /** The stop-reply reason for a stop at {@code addr}: swbreak, hwbreak, or null when none is there. */
    String reason(int addr) {
        if (software.contains(addr)) return "swbreak";
        if (hardware.contains(addr)) return "hwbreak";
        return null;
    }

    int[] addresses() {
        TreeSet<Integer> all = new TreeSet<>(software);
        all.addAll(hardware);
        return all.stream().mapToInt(Integer::intValue).toArray();
    }
}

package io.mucheckpoint.vmm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** The bundled guest workloads and their expected (host-computed) outputs, for tests. */
public final class Workloads {
    private Workloads() {}

    public static Path root() {
        return Paths.get(System.getProperty("vmm.root", "..")).toAbsolutePath().normalize();
    }

    public static Path guests() {
        return root().resolve("guests");
    }

    /** Workload names in guests/build/workloads.tsv order. */
    public static List<String> names() {
        try {
            List<String> names = new ArrayList<>();
            for (String line : Files.readAllLines(guests().resolve("build/workloads.tsv"))) {
                if (!line.isBlank()) names.add(line.split("\t")[0]);
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] image(String name) {
        try {
            return Files.readAllBytes(guests().resolve("build/" + name + ".elf"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String expected(String name, String size) {
        try {
            return Files.readString(guests().resolve("expected/" + name + "." + size + ".txt"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A multiboot image of the workload with the command line QEMU would pass. */
    public static GuestImage.Multiboot multiboot(String name, String args) {
        return new GuestImage.Multiboot(name + ".elf", image(name), "guests/build/" + name + ".elf " + args);
    }
}

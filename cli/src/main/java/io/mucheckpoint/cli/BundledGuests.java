package io.mucheckpoint.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The guest workloads carried inside the jar (from guests/build at build time). */
public final class BundledGuests {
    /** One bundled workload: its name and a one-line description. */
    public record Guest(String name, String description) {}

    private BundledGuests() {}

    public static List<Guest> list() {
        List<Guest> out = new ArrayList<>();
        for (String line : read("workloads.tsv").split("\n")) {
            if (line.isBlank()) continue;
            String[] p = line.split("\t", 2);
            out.add(new Guest(p[0].trim(), p.length > 1 ? p[1].trim() : ""));
        }
        return out;
    }

    /** The default guest: the first one listed. */
    public static Guest defaultGuest() {
        return list().get(0);
    }

    public static boolean exists(String name) {
        return list().stream().anyMatch(g -> g.name().equals(name));
    }

    public static byte[] image(String name) {
        if (!exists(name)) {
            throw new VmmException(ExitStatus.USAGE, "no bundled workload named '" + name + "' (see vmm workloads)");
        }
        try (InputStream in = BundledGuests.class.getResourceAsStream("/guests/" + name + ".elf")) {
            if (in == null) throw new VmmException(ExitStatus.INTERNAL, "bundled image " + name + ".elf is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(String resource) {
        try (InputStream in = BundledGuests.class.getResourceAsStream("/guests/" + resource)) {
            if (in == null) throw new VmmException(ExitStatus.INTERNAL, "the jar carries no bundled guests (" + resource + ")");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed guest images were built from the committed sources: recomputes the sources hash
 * described in guests/README.md and compares it with guests/build/sources.sha256, which the
 * Makefile writes when it builds the images.
 */
class GuestImagesUpToDateTest {
    private static final Set<String> EXCLUDED = Set.of("build", "expected", "host", "obj", "linux");

    @Test
    void imagesMatchTheirSources() throws Exception {
        Path guests = Workloads.guests();
        String recorded = Files.readString(guests.resolve("build/sources.sha256")).trim();
        assertEquals(recorded, sourcesHash(guests),
                "guests/build is stale: run `make -C guests` (needs gcc-multilib) and commit the images");
        for (String name : Workloads.names()) assertTrue(Files.size(guests.resolve("build/" + name + ".elf")) > 0);
    }

    static String sourcesHash(Path guests) throws IOException, java.security.NoSuchAlgorithmException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(guests)) {
            files = s.filter(Files::isRegularFile)
                    .filter(p -> !EXCLUDED.contains(guests.relativize(p).getName(0).toString()))
                    .filter(p -> {
                        String n = p.getFileName().toString();
                        return n.endsWith(".c") || n.endsWith(".h") || n.endsWith(".S") || n.endsWith(".ld") || n.equals("Makefile");
                    })
                    .sorted((a, b) -> compareBytes(rel(guests, a), rel(guests, b)))
                    .toList();
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Path p : files) {
            sha.update((rel(guests, p) + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(Files.readAllBytes(p));
            sha.update((byte) '\n');
        }
        sha.update(("flags\n" + cflags(guests.resolve("Makefile")) + "\n").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String rel(Path base, Path p) {
        return base.relativize(p).toString().replace('\\', '/');
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compare(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static String cflags(Path makefile) throws IOException {
        Matcher m = Pattern.compile("(?m)^GUEST_CFLAGS\\s*:=\\s*(.*?)\\s*$").matcher(Files.readString(makefile));
        if (!m.find()) throw new IllegalStateException("no GUEST_CFLAGS in " + makefile);
        return m.group(1);
    }
}

package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./vmm launcher's first build, with stand-ins for mvn and java on the PATH (a real first build
 * takes minutes): it says the build takes a while, shows each module as Maven reaches it, and on a
 * failed build shows Maven's errors and exits 70.
 */
class LauncherTest {
    @TempDir
    Path tmp;

    private static final String MAVEN_LINES = String.join("\n",
            "[INFO] Scanning for projects...",
            "[INFO] Building μCheckpoint VMM 0.1.0-SNAPSHOT                            [1/3]",
            "[INFO] Building μCheckpoint cpu-emu: the x86 processor 0.1.0-SNAPSHOT     [2/3]",
            "[INFO] Building jar: /somewhere/cpu-emu.jar",
            "[INFO] Building μCheckpoint cli: the vmm command 0.1.0-SNAPSHOT           [3/3]");

    private Path launcher(String mvnBody) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("clone"));
        Files.copy(Path.of(System.getProperty("vmm.root", ".."), "vmm"), root.resolve("vmm"));
        // the launcher reads the JVM's options from beside it, as in a clone
        Files.copy(Path.of(System.getProperty("vmm.root", ".."), "jvm.options"), root.resolve("jvm.options"));
        executable(root.resolve("vmm"));
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.writeString(bin.resolve("mvn"), "#!/usr/bin/env bash\n" + mvnBody);
        Files.writeString(bin.resolve("java"), "#!/usr/bin/env bash\necho \"java $*\"\n");
        executable(bin.resolve("mvn"));
        executable(bin.resolve("java"));
        return root;
    }

    private static void executable(Path p) throws Exception {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private record Result(int status, String out, String err) {}

    private Result run(Path root) throws Exception {
        return run(root, "workloads");
    }

    private Result run(Path root, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("vmm").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PATH", tmp.resolve("bin") + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out, err);
    }

    @Test
    void theFirstBuildSaysItTakesAWhileAndShowsEachModule() throws Exception {
        Path root = launcher("cat <<'EOF'\n" + MAVEN_LINES + "\nEOF\nmkdir -p cli/target && touch cli/target/vmm.jar\n");
        Result r = run(root);
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().startsWith("vmm: building the jar (first run, or the sources changed); the first build takes a few minutes...\n"),
                r.err());
        assertTrue(r.err().contains("vmm: building 2/3: μCheckpoint cpu-emu: the x86 processor ("), r.err());
        assertTrue(r.err().contains("vmm: building 3/3: μCheckpoint cli: the vmm command ("), r.err());
        assertFalse(r.err().contains("Building jar"), r.err());
        assertTrue(r.err().matches("(?s).*vmm: built in \\d+ s\n"), r.err());
        assertTrue(r.out().startsWith("java ") && r.out().contains("vmm.jar workloads"), r.out());
        // Built and up to date: no build the second time.
        Result again = run(root);
        assertEquals("", again.err(), again.toString());
    }

    @Test
    void aFailedBuildShowsMavensErrorsAndExits70() throws Exception {
        Path root = launcher("echo '[INFO] Scanning for projects...'\necho '[ERROR] COMPILATION ERROR: Foo.java:[3,1] oops'\nexit 1\n");
        Result r = run(root);
        assertEquals(70, r.status(), r.toString());
        assertTrue(r.err().contains("[ERROR] COMPILATION ERROR: Foo.java:[3,1] oops"), r.err());
        assertTrue(r.err().endsWith("vmm: the build failed (output above)\n"), r.err());
        assertEquals("", r.out());
    }

    /**
     * The class-data archive: made once for a jar (the stand-in java writes the file that
     * -XX:ArchiveClassesAtExit names), then given to every run; made again when the jar is newer.
     */
    @Test
    void aClassDataArchiveIsMadeOncePerJarAndThenUsed() throws Exception {
        Path root = launcher("mkdir -p cli/target && touch cli/target/vmm.jar\n");
        Path bin = tmp.resolve("bin");
        Files.writeString(bin.resolve("java"), String.join("\n", "#!/usr/bin/env bash",
                "for a in \"$@\"; do case $a in -XX:ArchiveClassesAtExit=*) echo made >> \"" + tmp.resolve("made") + "\"; echo archive > \"${a#*=}\"; exit 124;; esac; done",
                "echo \"java $*\"", ""));
        Result first = run(root);
        assertEquals(0, first.status(), first.toString());
        Path jsa = root.resolve("cli/target/vmm.jsa");
        assertTrue(Files.exists(jsa), "the archive was made");
        assertTrue(first.out().contains("-XX:SharedArchiveFile=" + jsa), first.out());
        Result second = run(root);
        assertTrue(second.out().contains("-XX:SharedArchiveFile=" + jsa), second.out());
        assertEquals(1, Files.readAllLines(tmp.resolve("made")).size(), "made once");
        // The jar rebuilt after the archive was made: the archive is older than the jar.
        Files.setLastModifiedTime(jsa, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(root.resolve("cli/target/vmm.jar")).toMillis() - 10_000));
        Result third = run(root);
        assertEquals(0, third.status(), third.toString());
        assertEquals(2, Files.readAllLines(tmp.resolve("made")).size(), "made again for the newer jar");
        assertTrue(third.out().contains("-XX:SharedArchiveFile=" + jsa), third.out());
    }

    /** C2 where translated code runs (run, console), C1 only where the interpreter does (--translate off, inject). */
    @Test
    void theInterpreterRunsWithC1OnlyAndTranslatedCodeWithC2() throws Exception {
        Path root = launcher("mkdir -p cli/target && touch cli/target/vmm.jar\n");
        run(root); // the first build
        String c1 = "-XX:TieredStopAtLevel=1";
        assertFalse(run(root, "run", "compress").out().contains(c1));
        assertFalse(run(root, "-v", "console", "--translate", "all").out().contains(c1));
        assertTrue(run(root, "run", "compress", "--translate", "off").out().contains(c1));
        assertTrue(run(root, "run", "--translate=off", "compress").out().contains(c1));
        assertTrue(run(root, "inject", "quantum", "--faults", "4").out().contains(c1));
        assertFalse(run(root, "inject", "quantum", "--translate", "on").out().contains(c1));
    }
}

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
}

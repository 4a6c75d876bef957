package io.mucheckpoint.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The files a user asks vmm to write. Every command checks them before it starts work, so that a
 * mistyped directory is found in a second rather than after a long run; a write that fails anyway
 * (the disk filled) is reported the same way: one line naming the user's path and the reason,
 * exit status {@link ExitStatus#CANT_CREATE}.
 */
final class OutputFiles {
    private OutputFiles() {}

    /**
     * Checks that {@code file}, given to {@code option}, can be written: its directory exists and is
     * writable, and it is not itself a directory or a read-only file. Nothing is created.
     * A null file (the option was not given) passes.
     */
    static void check(String option, Path file) {
        if (file == null) return;
        String why = problem(file);
        if (why != null) throw new VmmException(ExitStatus.CANT_CREATE, "cannot write " + file + " (" + option + "): " + why);
    }

    /** Why {@code file} cannot be written, or null. */
    static String problem(Path file) {
        if (Files.isDirectory(file)) return "it is a directory";
        Path dir = directory(file);
        if (!Files.exists(dir)) return "no such directory " + dir;
        if (!Files.isDirectory(dir)) return dir + " is not a directory";
        // access(2) with W_OK: also false on a read-only file system, even for root.
        if (!Files.isWritable(dir)) return "the directory " + dir + " is not writable";
        if (Files.exists(file) && !Files.isWritable(file)) return "the file is not writable";
        return null;
    }

    /** The error for a write to {@code file} that failed: the user's path and the reason, never a temporary file's name. */
    static VmmException writeFailed(Path file, IOException e) {
        return new VmmException(ExitStatus.CANT_CREATE, "cannot write " + file + ": " + reason(file, e));
    }

    static String reason(Path file, IOException e) {
        String why = problem(file);
        if (why != null) return why;
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static Path directory(Path file) {
        Path parent = file.getParent();
        return parent != null ? parent : Path.of(".");
    }
}

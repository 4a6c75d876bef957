package io.mucheckpoint.cli;

import io.mucheckpoint.recovery.report.Json;
import io.mucheckpoint.recovery.report.CampaignJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;

/**
 * Campaign journals as the commands use them: read (a bad one is a one-line error), and their headers
 * compared (whether a journal is of the campaign a command would run, or of another journal's).
 */
final class Journals {
    private Journals() {}

    /**
     * The first of {@code keys} whose value differs between two headers, said as "its K is A, B's is
     * B" ({@code theirs} and {@code mine} name the two), or null if they agree on all.
     */
    static String difference(Map<String, Object> a, String theirs, Map<String, Object> b, String mine, Collection<String> keys) {
        for (String k : keys) {
            String va = Json.write(a.get(k)), vb = Json.write(b.get(k));
            if (!va.equals(vb)) return theirs + " has " + k + " " + va + ", " + mine + " " + vb;
        }
        return null;
    }

    /** The shard a journal's header names (a header without one: the whole campaign). */
    static Shard shard(Map<String, Object> header) {
        Object s = header.get("shard");
        return s == null ? Shard.ALL : Shard.parse(s.toString());
    }

    /** Reads a journal named by the user: a missing or unreadable file exits 66, one that is no journal 65. */
    static CampaignJournal.Contents read(Path file) {
        try {
            return CampaignJournal.read(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        }
    }
}

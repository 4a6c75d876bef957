package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.dev.VirtioBlk;
import io.mucheckpoint.vmm.disk.DriveConfig;
import java.io.IOException;

/** The end of a run for its drives: ,writeback drives get the overlay copied into their image files. */
final class Drives {
    private Drives() {}

    /** Commits every ,writeback drive; returns false (having said why on stderr) if one could not be written. */
    static boolean commit(Machine m) {
        boolean ok = true;
        for (int i = 0; i < m.drives.size(); i++) {
            DriveConfig d = m.config().drives().get(i);
            VirtioBlk dev = m.drives.get(i);
            if (!d.writeback()) continue;
            try {
                int n = dev.disk().commit();
                System.err.printf("vmm: wrote %d changed block%s (4 KiB each) back to %s%n", n, n == 1 ? "" : "s", d.file());
            } catch (IOException e) {
                System.err.println("vmm: could not write the disk changes back to " + d.file() + ": " + e.getMessage());
                ok = false;
            }
        }
        m.closeDrives();
        return ok;
    }
}

package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Turns a snapshot file into a running machine, with the CLI's errors. */
final class Snapshots {
    private Snapshots() {}

    static Machine restore(Path file, GuestOptions guest, ConsoleSink out) {
        SnapshotFile.Contents c = load(file, guest);
        try {
            Machine m = new Machine(c.config(), new GuestImage.Restored(c.imageName(), c.rom()), out, out);
            SnapshotFile.apply(c, m);
            return m;
        } catch (LoadException | IllegalArgumentException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, file + ": " + e.getMessage());
        }
    }

    /** Reads a snapshot file for --restore, refusing guest options the snapshot already fixes. */
    static SnapshotFile.Contents load(Path file, GuestOptions guest) {
        if (guest.kernel != null || guest.bios != null || guest.flat != null || guest.linux != null || guest.workload != null) {
            throw new VmmException(ExitStatus.USAGE, "--restore resumes the guest saved in the file: name no other guest");
        }
        if (!guest.drive.isEmpty()) {
            throw new VmmException(ExitStatus.USAGE, "--restore reattaches the drives saved in the file: give no --drive");
        }
        // The snapshot carries the guest's command line, RAM, clock rate and reset behaviour: refuse rather than ignore.
        for (String option : new String[] {"--append", "--initrd", "--ram", "--ips", "--reboot"}) {
            if (guest.given(option)) {
                throw new VmmException(ExitStatus.USAGE, option + " cannot change a restored machine (the snapshot holds its command"
                        + " line, RAM, clock rate and reset behaviour): drop " + option);
            }
        }
        SnapshotFile.Contents c;
        try {
            c = SnapshotFile.load(file);
        } catch (NoSuchFileException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw new VmmException(ExitStatus.NO_INPUT, "cannot read " + file + ": " + e.getMessage());
        } catch (SnapshotFile.SnapshotFormatException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        }
        return c;
    }
}

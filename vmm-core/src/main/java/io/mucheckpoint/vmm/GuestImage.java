package io.mucheckpoint.vmm;

/** What the machine boots. Each form says how it enters the guest. */
public sealed interface GuestImage {
    /** A display name (usually the file name) for messages. */
    String name();

    /** A multiboot v1 kernel, entered in 32-bit protected mode; the command line is passed to it. */
    record Multiboot(String name, byte[] file, String cmdline) implements GuestImage {}

    /** A ROM image mapped below 1 MiB and at the top of 4 GiB, entered at the reset vector. */
    record Bios(String name, byte[] rom) implements GuestImage {}

    /** A raw binary copied to {@code address}: entered in real mode below 1 MiB, in flat protected mode above. */
    record Flat(String name, byte[] data, long address) implements GuestImage {}

    /** A Linux bzImage booted by the 32-bit boot protocol, with an optional initrd and a command line. */
    record Linux(String name, byte[] bzImage, byte[] initrd, String cmdline) implements GuestImage {}

    /**
     * Nothing to load: the machine is about to be filled from a snapshot file. {@code rom} is the
     * snapshot's ROM image, or null.
     */
    record Restored(String name, byte[] rom) implements GuestImage {}
}

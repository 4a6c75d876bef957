package io.mucheckpoint.recovery;

/**
 * An error detector fired.
 *
 * @param detector which detector (guest-exception, self-check, triple-fault, halt, watchdog, user)
 * @param detail what it saw, for the event log
 * @param icount instructions retired when it fired
 * @param guestNanos guest time when it fired
 */
public record Detection(String detector, String detail, long icount, long guestNanos) {
    @Override
    public String toString() {
        return String.format("%s (%s) at instruction %,d, %.3f ms guest time", detector, detail, icount, guestNanos / 1e6);
    }
}

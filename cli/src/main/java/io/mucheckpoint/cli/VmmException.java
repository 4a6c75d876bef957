package io.mucheckpoint.cli;

/** An error to report to the user in one line, with the exit status it maps to. */
public final class VmmException extends RuntimeException {
    private final int status;

    public VmmException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static VmmException notAvailable(String what) {
        return new VmmException(ExitStatus.NOT_AVAILABLE, what + " is not available yet");
    }
}

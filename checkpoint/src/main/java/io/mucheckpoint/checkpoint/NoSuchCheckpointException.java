package io.mucheckpoint.checkpoint;

/** A rollback asked for a checkpoint that is not (or no longer) retained. */
public final class NoSuchCheckpointException extends RuntimeException {
    private final int id;

    public NoSuchCheckpointException(int id, String message) {
        super(message);
        this.id = id;
    }

    public int id() {
        return id;
    }
}

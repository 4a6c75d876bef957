package io.mucheckpoint.checkpoint;

import java.util.List;

/**
 * A rollback found corruption in what it would need, before changing anything. Says which
 * checkpoints' data is corrupt and the newest checkpoint still reachable (-1 if none).
 */
public final class CheckpointUnreachableException extends RuntimeException {
    private final int target;
    private final List<Integer> corrupt;
    private final int newestReachable;

    public CheckpointUnreachableException(int target, List<Integer> corrupt, String message, int newestReachable) {
        super(message + (newestReachable >= 0 ? "; the newest reachable checkpoint is " + newestReachable
                : "; no checkpoint is reachable"));
        this.target = target;
        this.corrupt = List.copyOf(corrupt);
        this.newestReachable = newestReachable;
    }

    public int target() {
        return target;
    }

    public List<Integer> corrupt() {
        return corrupt;
    }

    public int newestReachable() {
        return newestReachable;
    }
}

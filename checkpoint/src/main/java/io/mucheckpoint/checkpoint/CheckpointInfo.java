package io.mucheckpoint.checkpoint;

/**
 * What the engine tells about one retained checkpoint.
 *
 * @param pages page images held for it; @param bytes those images plus its saved state
 * @param pauseNanos how long the guest was paused at its boundary
 * @param trapped, precopied, written, hits, waste counters of the epoch that followed it
 *        (written, hits and waste are known once that epoch has ended: {@code epochClosed})
 */
public record CheckpointInfo(int id, long icount, long guestNanos, int pages, long bytes, long pauseNanos,
                             int trapped, int precopied, int written, int hits, int waste, boolean epochClosed,
                             int stateBytes) {}

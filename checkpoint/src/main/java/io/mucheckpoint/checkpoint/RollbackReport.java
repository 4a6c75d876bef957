package io.mucheckpoint.checkpoint;

/** What a rollback did: the checkpoint it reached, pages written back, how long it took. */
public record RollbackReport(CheckpointInfo target, int pagesRestored, long nanos, long fromIcount) {}

package io.mucheckpoint.checkpoint;

/**
 * A predictor that judges itself: after every epoch in which it pre-copied, it weighs what the
 * copies saved against what they cost, with the engine's measured costs per page: each hit saved a
 * trap but paid a copy, each page copied for nothing paid a copy. When the balance is negative it
 * stops pre-copying for a while, 1 epoch, then 2, 4, ... up to {@link #MAX_BACK_OFF}, and tries
 * again (one probe epoch); a probe that pays for itself ends the back-off. The inner predictor
 * keeps learning throughout, so a probe predicts from the whole recent history.
 */
final class BackOffPredictor implements DirtyPagePredictor {
    static final int MAX_BACK_OFF = 64;
    /** Weight of the newest epoch in the running cost estimates. */
    private static final double NEW_WEIGHT = 0.25;

    private final DirtyPagePredictor inner;
    private double trapNanos = Double.NaN;
    private double precopyNanos = Double.NaN;
    private int backOff;
    private int skipLeft;

    BackOffPredictor(DirtyPagePredictor inner) {
        this.inner = inner;
    }

    @Override
    public void predict(long[] written, long[] predicted) {
        inner.predict(written, predicted);
        if (skipLeft > 0) {
            skipLeft--;
            java.util.Arrays.fill(predicted, 0L);
        }
    }

    @Override
    public void learn(int hits, int waste, double trapNanosPerPage, double precopyNanosPerPage) {
        if (trapNanosPerPage > 0) trapNanos = Double.isNaN(trapNanos) ? trapNanosPerPage : trapNanos + NEW_WEIGHT * (trapNanosPerPage - trapNanos);
        if (precopyNanosPerPage > 0) {
            precopyNanos = Double.isNaN(precopyNanos) ? precopyNanosPerPage : precopyNanos + NEW_WEIGHT * (precopyNanosPerPage - precopyNanos);
        }
        if (hits + waste == 0 || Double.isNaN(trapNanos) || Double.isNaN(precopyNanos)) return; // nothing to judge by yet
        double saved = hits * (trapNanos - precopyNanos) - waste * precopyNanos;
        if (saved < 0) {
            backOff = backOff == 0 ? 1 : Math.min(MAX_BACK_OFF, backOff * 2);
            skipLeft = backOff;
        } else {
            backOff = 0;
        }
    }

    /** Epochs the predictor will still sit out (for tests and the log). */
    int backingOff() {
        return skipLeft;
    }

    @Override
    public byte[] save() {
        byte[] in = inner.save();
        return java.nio.ByteBuffer.allocate(24 + in.length).putDouble(trapNanos).putDouble(precopyNanos).putInt(backOff)
                .putInt(skipLeft).put(in).array();
    }

    @Override
    public void restore(byte[] state) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(state);
        trapNanos = b.getDouble();
        precopyNanos = b.getDouble();
        backOff = b.getInt();
        skipLeft = b.getInt();
        inner.restore(java.util.Arrays.copyOfRange(state, 24, state.length));
    }

    @Override
    public void reset() {
        inner.reset();
        backOff = 0;
        skipLeft = 0;
    }
}

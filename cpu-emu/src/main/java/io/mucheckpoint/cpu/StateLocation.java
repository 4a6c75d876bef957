package io.mucheckpoint.cpu;

/**
 * One location of processor state, left out when two processors are compared
 * ({@link Cpu#differsFrom}): the place a fault was injected, which is expected to differ.
 *
 * @param kind what the location is
 * @param index the register number (EAX=0..EDI=7), the EFLAGS bits as a mask, the segment register
 *        (ES=0..GS=5; only its base is left out), the control register (0, 3 or 4) or the x87
 *        physical register (0-7)
 */
public record StateLocation(Kind kind, int index) {
    /** Leaves nothing out. */
    public static final StateLocation NOTHING = new StateLocation(Kind.NOTHING, 0);

    public enum Kind { NOTHING, REGISTER, EFLAGS_BITS, SEGMENT_BASE, CONTROL_REGISTER, X87_SIGNIFICAND, X87_SIGN_EXPONENT }
}

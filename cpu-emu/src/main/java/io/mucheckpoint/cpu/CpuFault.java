package io.mucheckpoint.cpu;

/**
 * A processor exception raised by the guest's own execution (#DE, #GP, #PF, ...). It unwinds to the
 * interpreter loop, which delivers it to the guest. It is not an emulator error: those are ordinary
 * Java exceptions and are never turned into guest exceptions.
 */
public final class CpuFault extends RuntimeException {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18;

    final int vector;
    final int errorCode;
    final boolean hasErrorCode;

    private CpuFault(int vector, int errorCode, boolean hasErrorCode) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.hasErrorCode = hasErrorCode;
    }

    static CpuFault of(int vector) {
        return new CpuFault(vector, 0, false);
    }

    static CpuFault withCode(int vector, int code) {
        return new CpuFault(vector, code, true);
    }

    static CpuFault gp(int code) {
        return new CpuFault(GP, code, true);
    }

    static CpuFault ss(int code) {
        return new CpuFault(SS, code, true);
    }

    static CpuFault np(int code) {
        return new CpuFault(NP, code, true);
    }

    static CpuFault ts(int code) {
        return new CpuFault(TS, code, true);
    }

    static CpuFault pf(int code) {
        return new CpuFault(PF, code, true);
    }

    static CpuFault ud() {
        return new CpuFault(UD, 0, false);
    }

    static CpuFault de() {
        return new CpuFault(DE, 0, false);
    }

    public int vector() {
        return vector;
    }

    public int errorCode() {
        return errorCode;
    }

    @Override
    public String getMessage() {
        return "exception " + vector + (hasErrorCode ? " error " + Integer.toHexString(errorCode) : "");
    }
}

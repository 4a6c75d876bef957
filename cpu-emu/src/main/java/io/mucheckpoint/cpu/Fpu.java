package io.mucheckpoint.cpu;

/**
 * The x87 floating-point unit. Not present yet: CPUID does not advertise it, ESC opcodes raise #NM
 * when CR0.EM or CR0.TS asks for it and #UD otherwise, as on a processor without a coprocessor.
 */
final class Fpu {
    static final boolean PRESENT = false;

    private int control = 0x037F;
    private int status;
    private int tag = 0xFFFF;
    private final byte[] registers = new byte[80];

    void reset() {
        control = 0x037F;
        status = 0;
        tag = 0xFFFF;
        java.util.Arrays.fill(registers, (byte) 0);
    }

    CpuState.FpuState save() {
        return new CpuState.FpuState(control, status, tag, registers.clone(), 0, 0, 0, 0, 0);
    }

    void restore(CpuState.FpuState s) {
        control = s.control();
        status = s.status();
        tag = s.tag();
        System.arraycopy(s.registers(), 0, registers, 0, 80);
    }

    void execute(Cpu c, Insn in) {
        if ((c.cr0 & (AddressSpace.CR0_EM | AddressSpace.CR0_TS)) != 0) throw CpuFault.of(CpuFault.NM);
        throw CpuFault.ud();
    }

    void waitInstruction(Cpu c) {
        if ((c.cr0 & (AddressSpace.CR0_MP | AddressSpace.CR0_TS)) == (AddressSpace.CR0_MP | AddressSpace.CR0_TS)) {
            throw CpuFault.of(CpuFault.NM);
        }
    }
}

package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The disassembler's text (checked against GNU objdump -M intel, which it follows) and its lengths
 * (checked against the decoder's, on every encoding of random bytes).
 */
class DisassemblerTest {
    private static byte[] hex(String s) {
        String[] p = s.trim().split("\\s+");
        byte[] b = new byte[p.length];
        for (int i = 0; i < p.length; i++) b[i] = (byte) Integer.parseInt(p[i], 16);
        return b;
    }

    private static void check(String bytes, boolean code32, String want) {
        byte[] b = hex(bytes);
        Disassembler.Instruction in = Disassembler.decode(b, 0, 0, code32);
        assertEquals(want, in.text().replaceAll("\\s+", " "), bytes);
        assertEquals(b.length, in.length(), "length of " + bytes);
    }

    // The expected texts are objdump 2.40's (-b binary -m i386 -M intel), whitespace collapsed.
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "89 c6 | mov esi,eax",
        "bf 00 50 10 00 | mov edi,0x105000",
        "c1 e9 02 | shr ecx,0x2",
        "f3 ab | rep stos DWORD PTR es:[edi],eax",
        "e8 9f 04 00 00 | call 0x4a4",
        "eb fc | jmp 0xfffffffe",
        "66 90 | xchg ax,ax",
        "f3 90 | pause",
        "93 | xchg ebx,eax",
        "8d 74 26 00 | lea esi,[esi+eiz*1+0x0]",
        "8d 04 85 00 00 00 00 | lea eax,[eax*4+0x0]",
        "8b 04 24 | mov eax,DWORD PTR [esp]",
        "8b 45 fc | mov eax,DWORD PTR [ebp-0x4]",
        "26 8b 00 | mov eax,DWORD PTR es:[eax]",
        "a1 00 10 00 00 | mov eax,ds:0x1000",
        "64 a1 00 00 00 00 | mov eax,fs:0x0",
        "a2 00 10 00 00 | mov ds:0x1000,al",
        "0f 1f 44 00 00 | nop DWORD PTR [eax+eax*1+0x0]",
        "66 2e 0f 1f 84 00 00 00 00 00 | nop WORD PTR cs:[eax+eax*1+0x0]",
        "f3 0f 1e fb | endbr32",
        "0f 01 10 | lgdtd [eax]",
        "0f 01 f0 | lmsw ax",
        "0f 01 38 | invlpg BYTE PTR [eax]",
        "0f 20 c0 | mov eax,cr0",
        "0f 23 f8 | mov dr7,eax",
        "8c c0 | mov eax,es",
        "8e c0 | mov es,eax",
        "c4 00 | les eax,FWORD PTR [eax]",
        "62 00 | bound eax,QWORD PTR [eax]",
        "9a 00 00 10 00 08 00 | call 0x8:0x100000",
        "e3 00 | jecxz 0x2",
        "66 60 | pushaw",
        "66 9c | pushfw",
        "98 | cwde",
        "66 99 | cwd",
        "f3 a6 | repz cmps BYTE PTR ds:[esi],BYTE PTR es:[edi]",
        "f2 ae | repnz scas al,BYTE PTR es:[edi]",
        "6f | outs dx,DWORD PTR ds:[esi]",
        "d7 | xlat BYTE PTR ds:[ebx]",
        "f3 c3 | repz ret",
        "3e 90 | ds nop",
        "0f c7 08 | cmpxchg8b QWORD PTR [eax]",
        "ff 18 | call FWORD PTR [eax]",
        "ff d0 | call eax",
        "0f 00 c0 | sldt eax",
        "69 c0 00 01 00 00 | imul eax,eax,0x100",
        "6b c0 f0 | imul eax,eax,0xfffffff0",
        "6a ff | push 0xffffffff",
        "83 e4 f0 | and esp,0xfffffff0",
        "f0 01 00 | lock add DWORD PTR [eax],eax",
        "c8 10 00 00 | enter 0x10,0x0",
        "0f b6 c0 | movzx eax,al",
        "0f bf c0 | movsx eax,ax",
        "0f ba e0 05 | bt eax,0x5",
        "0f a4 c0 03 | shld eax,eax,0x3",
        "0f ad c1 | shrd ecx,eax,cl",
        "0f 44 c1 | cmove eax,ecx",
        "0f 94 c0 | sete al",
        "0f c8 | bswap eax",
        "d1 30 | shl DWORD PTR [eax],1",
        "d3 e0 | shl eax,cl",
        "f7 38 | idiv DWORD PTR [eax]",
        "f6 c1 01 | test cl,0x1",
        "12 0c 5d 5d 37 3c 88 | adc cl,BYTE PTR [ebx*2-0x77c3c8a3]",
        "d4 0a | aam 0xa",
        "cd 80 | int 0x80",
        "ec | in al,dx",
        "e6 64 | out 0x64,al",
        "0f 0b | ud2",
        "0f 31 | rdtsc",
        "0f a2 | cpuid",
        // x87
        "d8 00 | fadd DWORD PTR [eax]",
        "dc 00 | fadd QWORD PTR [eax]",
        "de 00 | fiadd WORD PTR [eax]",
        "df 28 | fild QWORD PTR [eax]",
        "db 28 | fld TBYTE PTR [eax]",
        "d9 30 | fnstenv [eax]",
        "dd 38 | fnstsw WORD PTR [eax]",
        "d9 28 | fldcw WORD PTR [eax]",
        "d8 c1 | fadd st,st(1)",
        "d8 d1 | fcom st(1)",
        "dc e1 | fsubr st(1),st",
        "dc e9 | fsub st(1),st",
        "de f9 | fdivp st(1),st",
        "de c1 | faddp st(1),st",
        "de d9 | fcompp",
        "da e9 | fucompp",
        "db e2 | fnclex",
        "df e0 | fnstsw ax",
        "db f1 | fcomi st,st(1)",
        "df e8 | fucomip st,st(0)",
        "da c1 | fcmovb st,st(1)",
        "d9 c9 | fxch st(1)",
        "d9 e8 | fld1",
        "d9 fe | fsin",
        "dd c0 | ffree st(0)",
        "df c1 | ffreep st(1)",
        // what the processor rejects
        "fe 10 | (bad)",
        "8d c0 | (bad)",
        "0f 05 | (bad)",
        "ff f8 | (bad)",
    })
    void matchesObjdump32(String bytes, String want) {
        check(bytes, true, want);
    }

    // objdump -m i8086
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0f 01 10 | lgdtw [bx+si]",
        "8b 46 fe | mov ax,WORD PTR [bp-0x2]",
        "8b 1e 34 12 | mov bx,WORD PTR ds:0x1234",
        "e8 00 00 | call 0x3",
        "66 e8 00 00 00 00 | calld 0x6",
        "f3 a5 | rep movs WORD PTR es:[di],WORD PTR ds:[si]",
        "66 60 | pushad",
        "66 cf | iretd",
        "98 | cbw",
        "e3 00 | jcxz 0x2",
        "67 8b 04 24 | mov ax,WORD PTR [esp]",
        "ea 00 7c 00 00 | jmp 0x0:0x7c00",
        "26 8a 07 | mov al,BYTE PTR es:[bx]",
        "0f be 07 | movsx ax,BYTE PTR [bx]",
        "67 66 8d 04 40 | lea eax,[eax+eax*2]",
        "36 ac | lods al,BYTE PTR ss:[si]",
        "0f 22 c0 | mov cr0,eax",
        "ef | out dx,ax",
    })
    void matchesObjdump16(String bytes, String want) {
        check(bytes, false, want);
    }

    @Test
    void layoutIsObjdumps() {
        assertEquals("mov    eax,ebx", Disassembler.decode(hex("89 d8"), 0, 0, true).text());
        assertEquals("rep stos DWORD PTR es:[edi],eax", Disassembler.decode(hex("f3 ab"), 0, 0, true).text());
        assertEquals("lock add DWORD PTR [eax],eax", Disassembler.decode(hex("f0 01 00"), 0, 0, true).text());
        assertEquals("ret", Disassembler.decode(hex("c3"), 0, 0, true).text());
        assertEquals("8b 45 08", Disassembler.decode(hex("8b 45 08"), 0, 0, true).hexBytes());
    }

    @Test
    void branchTargetsAreAbsoluteAndWrapInSixteenBitCode() {
        assertEquals("jmp 0x100037",
                Disassembler.decode(hex("eb fc"), 0, 0x100039, true).text().replaceAll("\\s+", " "));
        assertEquals("jmp 0xfffe", Disassembler.decode(hex("eb fc"), 0, 0, false).text().replaceAll("\\s+", " "));
    }

    @Test
    void unreadableBytesGiveBad() {
        Disassembler.Instruction in = Disassembler.decode(hex("8b"), 0, 0, true);
        assertEquals("(bad)", in.text());
        assertEquals(1, in.length());
        assertEquals("8b", in.hexBytes());
    }

    @Test
    void lengthsAgreeWithTheDecoderOnRandomBytes() {
        for (boolean code32 : new boolean[] {true, false}) {
            FlatMemory mem = new FlatMemory(1 << 20);
            byte[] ram = mem.backing();
            new SplittableRandom(code32 ? 1 : 2).nextBytes(ram);
            Cpu cpu = new Cpu(mem, new IoBus() {
                @Override
                public int in(int port, int size) {
                    return -1;
                }

                @Override
                public void out(int port, int size, int value) {}
            });
            if (code32) cpu.enterFlatProtectedMode(); else cpu.loadSegment(AddressSpace.CS, 0);
            Decoder decoder = new Decoder(cpu);
            int checked = 0;
            for (int at = 0; at < 0xFFF0 && checked < 50_000; checked++) {
                Insn insn = new Insn();
                decoder.decode(insn, at, at, code32);
                Disassembler.Instruction d = Disassembler.decode(ram, at, at, code32);
                assertEquals(decoder.length(), d.length(), String.format("length at %x (%s): %s", at, code32 ? "32" : "16",
                        d.hexBytes()));
                if (insn.op == Op.UD) {
                    assertTrue(d.text().equals("(bad)") || d.text().contains("lock ") || d.text().contains("ud2"),
                            () -> "decoder rejects " + d.hexBytes() + " but it disassembles as " + d.text());
                }
                at += d.length();
            }
        }
    }

    @Test
    void readsThroughThePageTablesWithoutSideEffects() {
        FlatMemory mem = new FlatMemory(1 << 22);
        Cpu cpu = new Cpu(mem, new IoBus() {
            @Override
            public int in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, int value) {}
        });
        cpu.enterFlatProtectedMode();
        byte[] ram = mem.backing();
        // Page directory at 0x1000 -> page table at 0x2000 -> linear 0x400000.. unmapped, 0x0 -> 0x3000.
        putInt(ram, 0x1000, 0x2000 | 1);
        putInt(ram, 0x2000, 0x3000 | 1);
        ram[0x3000] = (byte) 0x90;
        CpuState s = cpu.save();
        cpu.restore(new CpuState(s.regs(), s.eip(), s.eflags(), s.segments(), s.ldtr(), s.tr(), s.gdtBase(), s.gdtLimit(),
                s.idtBase(), s.idtLimit(), s.cr0() | 0x80000000, s.cr2(), 0x1000, s.cr4(), s.dr(), s.cpl(), s.halted(),
                s.interruptShadow(), s.nmiPending(), s.nmiBlocked(), s.shutdown(), s.icount(), s.tscOffset(),
                s.sysenterCs(), s.sysenterEsp(), s.sysenterEip(), s.apicBase(), s.miscEnable(), s.mtrr(), s.fpu()));
        assertEquals(0x3000, Disassembler.physical(cpu, 0));
        assertEquals(0x90, Disassembler.peek(cpu, 0));
        assertEquals(-1, Disassembler.physical(cpu, 0x400000));
        assertEquals(0, cpu.cr2(), "no fault, no CR2");
        assertEquals(0x2001, ram[0x1000] & 0xFF | (ram[0x1001] & 0xFF) << 8, "no accessed bit set in the PDE");
        assertEquals("nop", Disassembler.at(cpu, 0).text());
    }

    private static void putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) b[at + i] = (byte) (v >>> (8 * i));
    }
}

package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The 32-bit (and 8/16-bit) integer instructions against results recorded natively on the host x86
 * by cpu-emu/src/test/c/oracle32.c (see oracle32/FORMAT.md). Each record is encoded as a real
 * instruction, decoded and executed by the interpreter in 32-bit protected mode.
 */
class Oracle32Test {
    private static final int EAX = 0, ECX = 1, EDX = 2, EBX = 3;

    @ParameterizedTest
    @ValueSource(strings = {"alu", "shift", "muldiv", "bit", "bcd", "misc"})
    void matchesHardware(String file) throws IOException {
        TestMachine m = new TestMachine();
        Map<String, int[]> perForm = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int n = 0;
        try (InputStream raw = Oracle32Test.class.getResourceAsStream("/oracle32/" + file + ".txt.gz");
             BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("#") || line.isBlank()) continue;
                n++;
                String why = check(m, line);
                int[] c = perForm.computeIfAbsent(line.substring(0, line.indexOf(' ')), k -> new int[2]);
                c[0]++;
                if (why != null) {
                    c[1]++;
                    if (failures.size() < 30) failures.add(line + "  <- " + why);
                }
            }
        }
        assertTrue(n > 1000, "too few records in " + file);
        StringBuilder b = new StringBuilder();
        perForm.forEach((k, v) -> { if (v[1] > 0) b.append(k).append(": ").append(v[1]).append('/').append(v[0]).append(' '); });
        assertEquals(List.of(), failures, "failing forms: " + b);
    }

    /** Returns null if the record matches, else what differs. */
    static String check(TestMachine m, String line) {
        String[] halves = line.split(" -> ");
        String[] inTok = halves[0].split(" ");
        String form = inTok[0];
        Map<String, Long> in = fields(inTok, 1);
        Map<String, Long> out = fields(halves[1].split(" "), 0);
        int size = form.endsWith("8") || form.endsWith("8_1") ? 1 : form.contains("16") || form.equals("CBW") || form.equals("CWD") ? 2 : 4;
        if (form.startsWith("IMUL2_") || form.startsWith("IMUL3_")) size = form.endsWith("16") ? 2 : 4;
        Cpu c = m.cpu;
        m.reset32();
        for (int r = 0; r < 8; r++) if (r != 4) c.setReg(r, 0x5A5A5A5A * (r + 1));
        c.setEflags((int) (long) in.get("f") | 2);
        int a = v(in, "a"), b = v(in, "b");
        List<Integer> code = new ArrayList<>();
        if (size == 2) code.add(0x66);
        String op = form.replaceAll("(8|16|32)(_1)?$", "").replace("_", "");
        boolean byOne = form.endsWith("_1");
        int resultReg = EBX, result2Reg = -1;
        switch (op) {
            case "ADD": case "OR": case "ADC": case "SBB": case "AND": case "SUB": case "XOR": case "CMP": case "TEST": {
                int k = List.of("ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP").indexOf(op);
                int opc = op.equals("TEST") ? 0x84 : k * 8;
                code.add(opc + (size == 1 ? 0 : 1));
                code.add(0xCB);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                break;
            }
            case "NEG": case "NOT":
                code.add(size == 1 ? 0xF6 : 0xF7);
                code.add(op.equals("NEG") ? 0xDB : 0xD3);
                c.setReg(EBX, a);
                break;
            case "INC": case "DEC":
                if (size == 1) { code.add(0xFE); code.add(op.equals("INC") ? 0xC3 : 0xCB); }
                else code.add(op.equals("INC") ? 0x43 : 0x4B);
                c.setReg(EBX, a);
                break;
            case "ROL": case "ROR": case "RCL": case "RCR": case "SHL": case "SHR": case "SAR": {
                int k = List.of("ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "X", "SAR").indexOf(op);
                code.add((byOne ? 0xD0 : 0xD2) + (size == 1 ? 0 : 1));
                code.add(0xC0 | (k << 3) | 3);
                c.setReg(EBX, a);
                if (!byOne) c.setReg(ECX, v(in, "c"));
                break;
            }
            case "SHLD": case "SHRD":
                code.add(0x0F); code.add(op.equals("SHLD") ? 0xA5 : 0xAD); code.add(0xD3);
                c.setReg(EBX, a);
                c.setReg(EDX, b);
                c.setReg(ECX, v(in, "c"));
                break;
            case "MUL": case "IMUL": case "DIV": case "IDIV": {
                int k = List.of("MUL", "IMUL", "DIV", "IDIV").indexOf(op) + 4;
                code.add(size == 1 ? 0xF6 : 0xF7);
                code.add(0xC0 | (k << 3) | 3);
                c.setReg(EAX, a);
                c.setReg(EBX, b);
                if (in.containsKey("d")) c.setReg(EDX, v(in, "d"));
                if (size == 1 && !op.endsWith("DIV")) c.setReg(EAX, a & 0xFF);
                resultReg = EAX;
                result2Reg = size == 1 ? -2 : EDX; // -2: AH
                break;
            }
            case "IMUL2":
                code.add(0x0F); code.add(0xAF); code.add(0xD9);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                break;
            case "IMUL3": {
                code.add(0x69); code.add(0xD3);
                int imm = v(in, "i");
                for (int i = 0; i < size; i++) code.add((imm >>> (8 * i)) & 0xFF);
                c.setReg(EBX, a);
                resultReg = EDX;
                break;
            }
            case "BT": case "BTS": case "BTR": case "BTC": {
                int k = List.of("BT", "BTS", "BTR", "BTC").indexOf(op);
                code.add(0x0F); code.add(0xA3 + k * 8); code.add(0xCB);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                break;
            }
            case "BSF": case "BSR":
                code.add(0x0F); code.add(op.equals("BSF") ? 0xBC : 0xBD); code.add(0xD9);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                break;
            case "BSWAP":
                code.add(0x0F); code.add(0xCB);
                c.setReg(EBX, a);
                break;
            case "DAA": case "DAS": case "AAA": case "AAS":
                code.add(Map.of("DAA", 0x27, "DAS", 0x2F, "AAA", 0x37, "AAS", 0x3F).get(op));
                c.setReg(EAX, a);
                resultReg = EAX;
                size = 2;
                break;
            case "AAM": case "AAD":
                code.add(op.equals("AAM") ? 0xD4 : 0xD5);
                code.add(v(in, "i"));
                c.setReg(EAX, a);
                resultReg = EAX;
                size = 2;
                break;
            case "CBW": case "CWDE":
                code.add(0x98);
                c.setReg(EAX, a);
                resultReg = EAX;
                break;
            case "CWD": case "CDQ":
                code.add(0x99);
                c.setReg(EAX, a);
                resultReg = EDX;
                break;
            case "XADD": case "CMPXCHG":
                code.add(0x0F);
                code.add((op.equals("XADD") ? 0xC0 : 0xB0) + (size == 1 ? 0 : 1));
                code.add(0xCB);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                if (op.equals("CMPXCHG")) c.setReg(EAX, v(in, "acc"));
                result2Reg = op.equals("XADD") ? ECX : EAX;
                break;
            case "SETCC":
                code.add(0x0F); code.add(0x90 + v(in, "cc")); code.add(0xC3);
                c.setReg(EBX, a);
                size = 1;
                break;
            case "CMOV":
                code.add(0x0F); code.add(0x40 + v(in, "cc")); code.add(0xD9);
                c.setReg(EBX, a);
                c.setReg(ECX, b);
                break;
            case "LAHF": case "SAHF":
                code.add(op.equals("LAHF") ? 0x9F : 0x9E);
                c.setReg(EAX, a);
                resultReg = op.equals("LAHF") ? EAX : -1;
                size = 2;
                break;
            default:
                return "unknown form " + form;
        }
        m.runCode(code.stream().mapToInt(Integer::intValue).toArray());
        int exc = m.exceptionTaken();
        if (out.containsKey("ex")) {
            return exc == 0 ? null : "expected #DE, got " + (exc < 0 ? "no exception" : "exception " + exc);
        }
        if (exc >= 0) return "unexpected exception " + exc;
        StringBuilder why = new StringBuilder();
        int mask = Registers.sizeMask(size);
        boolean resultDefined = !out.containsKey("ru");
        if (out.containsKey("r") && resultDefined && resultReg >= 0) {
            int got = c.reg(resultReg) & mask;
            if (size == 1 && resultReg == EAX && op.matches("MUL|IMUL|DIV|IDIV")) got = c.reg(EAX) & 0xFF;
            if (got != v(out, "r")) why.append(String.format("r=%x ", got));
        }
        if (out.containsKey("r2") && result2Reg != -1) {
            int got = result2Reg == -2 ? (c.reg(EAX) >>> 8) & 0xFF : c.reg(result2Reg) & mask;
            if (got != v(out, "r2")) why.append(String.format("r2=%x ", got));
        }
        int fm = v(out, "m");
        int gotF = c.eflags() & 0x8D5;
        if (((gotF ^ v(out, "f")) & fm) != 0) why.append(String.format("f=%03x ", gotF));
        return why.length() == 0 ? null : why.toString().trim();
    }

    private static int v(Map<String, Long> m, String k) {
        Long x = m.get(k);
        return x == null ? 0 : (int) (long) x;
    }

    private static Map<String, Long> fields(String[] tokens, int from) {
        Map<String, Long> m = new HashMap<>();
        for (int i = from; i < tokens.length; i++) {
            int eq = tokens[i].indexOf('=');
            if (eq < 0) continue;
            String val = tokens[i].substring(eq + 1);
            m.put(tokens[i].substring(0, eq), val.equals("DE") ? -1L : Long.parseLong(val, 16));
        }
        return m;
    }
}

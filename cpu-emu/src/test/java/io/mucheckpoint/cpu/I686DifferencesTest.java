package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.I686Differences.Kind;
import io.mucheckpoint.cpu.I686Differences.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules on vectors written here in upstream's format, for cases the stored slice does not
 * hold: the 8-bit IDIV the 80286 finishes without #DE (issue 19: {@code idiv dh}, AX=8C60, DH=67,
 * quotient -287, the 80286 returned AX=E080), the quotient -128 that both processors accept, and a
 * vector the quirk does not predict, which must stay a failure.
 */
class I686DifferencesTest {
    private final I686Differences.Judge judge = new I686Differences.Judge();

    /** {@code idiv dh} at 1000:0100 with the given AX and DH, and the 80286's final AX (no exception). */
    @SuppressWarnings("unchecked")
    private static Vector286 idivDh(int ax, int dh, int finalAx) {
        String json = "{\"idx\": 0, \"name\": \"idiv dh\", \"bytes\": [246, 254, 244], \"initial\": {\"regs\": {"
                + "\"ax\": " + ax + ", \"bx\": 4660, \"cx\": 22136, \"dx\": " + (dh << 8 | 0x21) + ", \"cs\": 4096, \"ss\": 8192, "
                + "\"ds\": 12288, \"es\": 16384, \"sp\": 256, \"bp\": 1, \"si\": 2, \"di\": 3, \"ip\": 256, \"flags\": 2}, "
                + "\"ram\": [[65792, 246], [65793, 254], [65794, 244]], \"queue\": []}, "
                + "\"final\": {\"regs\": {\"ax\": " + finalAx + ", \"ip\": 259}, \"ram\": [], \"queue\": []}, "
                + "\"hash\": \"synthetic\"}";
        return new Vector286("F6.7", (Map<String, Object>) MiniJson.parse(json), 0xF72A);
    }

    @Test
    void theEightyTwoEightySixIdivQuirkIsExplainedAndTheI686RaisesDivideError() {
        // -29600 / 103 = -287: outside -128..127, so the i686 raises #DE (SDM IDIV). The 80286 gave
        // AL=80h, AH=E0h: AX xor 4000h = -13216 = -128 * 103 - 32, the quirk of SingleStepTests/80386#3.
        Vector286 v = idivDh(0x8C60, 0x67, 0xE080);
        assertTrue(I686Differences.IDIV_QUIRK.applies(v));
        Verdict verdict = judge.judge(v);
        assertEquals(Kind.EXPLAINED, verdict.kind(), String.valueOf(verdict.detail()));
        assertEquals(List.of("idiv-quotient-80h"), verdict.rules());
        // The processor itself does not reproduce the vector: it raised #DE.
        assertFalse(judge.runner.check(v, new VectorRunner.Setup(), Expectation.of(v)) == null);
    }

    @Test
    void aQuotientOfMinus128FitsOnBothProcessors() {
        // -13184 / 103 = -128 exactly, remainder 0: no #DE on the i686 (or the 80286, unlike the 8086).
        Vector286 v = idivDh(0xCC80, 0x67, 0x0080);
        assertFalse(I686Differences.IDIV_QUIRK.applies(v));
        assertEquals(Kind.PASS, judge.judge(v).kind());
    }

    @Test
    void anOverflowTheQuirkDoesNotPredictStaysAFailure() {
        Vector286 v = idivDh(0x8C60, 0x67, 0xE081);
        assertFalse(I686Differences.IDIV_QUIRK.applies(v));
        assertEquals(Kind.FAIL, judge.judge(v).kind());
    }

    /**
     * {@code mov [bx],fs} with BX=FFFF: the 80286 has no FS and raises #UD; the i686 executes the
     * MOV, whose word operand crosses the end of DS, so it raises #GP (13) instead.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aMoveFromFsToTheEndOfTheSegmentFaultsOnTheI686() {
        String json = "{\"idx\": 0, \"name\": \"mov [bx],fs\", \"bytes\": [140, 39, 244], \"initial\": {\"regs\": {"
                + "\"ax\": 1, \"bx\": 65535, \"cx\": 2, \"dx\": 3, \"cs\": 4096, \"ss\": 8192, \"ds\": 12288, \"es\": 16384, "
                + "\"sp\": 256, \"bp\": 4, \"si\": 5, \"di\": 6, \"ip\": 256, \"flags\": 2}, "
                + "\"ram\": [[65792, 140], [65793, 39], [65794, 244], [24, 0], [25, 5], [26, 0], [27, 0], [1280, 244]], \"queue\": []}, "
                + "\"final\": {\"regs\": {\"cs\": 0, \"ip\": 1281, \"sp\": 250}, \"ram\": [[131322, 0], [131323, 1], [131324, 0], "
                + "[131325, 16], [131326, 2], [131327, 0]], \"queue\": []}, \"exception\": {\"number\": 6, \"flag_address\": 131326}, "
                + "\"hash\": \"synthetic\"}";
        Vector286 v = new Vector286("8C", (Map<String, Object>) MiniJson.parse(json), 0xFFFF);
        assertTrue(I686Differences.FS_GS.applies(v));
        Verdict verdict = judge.judge(v);
        assertEquals(Kind.EXPLAINED, verdict.kind(), String.valueOf(verdict.detail()));
        assertEquals(List.of("fs-gs"), verdict.rules());
    }
}

package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The campaign's progress line: on a terminal the closing line of a bound leaves nothing of the progress line behind. */
class InjectProgressTest {
    /** What a terminal shows on the last row: each carriage return goes back to column 0 and overwrites. */
    private static String lastRow(String printed) {
        String[] lines = printed.split("\n", -1);
        StringBuilder row = new StringBuilder();
        int col = 0;
        for (char c : lines[lines.length - 2].toCharArray()) {
            if (c == '\r') {
                col = 0;
                continue;
            }
            if (col < row.length()) row.setCharAt(col, c);
            else row.append(c);
            col++;
        }
        return row.toString();
    }

    @Test
    void theClosingLineCoversTheLongestProgressLineOnATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        InjectCommand.Progress p = new InjectCommand.Progress(err, 200, true);
        p.bound("L=200ms");
        for (int i = 1; i <= 9; i++) p.done(i);
        err.print("^C"); // the terminal echoes Ctrl-C where the cursor is
        p.finish(9, 12_100_000_000L);
        String row = lastRow(bytes.toString(StandardCharsets.UTF_8));
        assertEquals("L=200ms: 9 injections in 12.1 s", row.stripTrailing(), "only the closing line is left: '" + row + "'");
    }

    @Test
    void elsewhereEachLineIsPrintedWhole() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        InjectCommand.Progress p = new InjectCommand.Progress(err, 10, false);
        p.bound("L=0");
        for (int i = 1; i <= 10; i++) p.done(i);
        p.finish(10, 1_000_000_000L);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(!printed.contains("\r"), printed);
        assertTrue(printed.endsWith("L=0: 10 injections in 1.0 s\n"), printed);
    }
}

package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestOutputTest {
    @Test
    void linesAboveThePromptCarryNoTerminalQueries() {
        List<String> shown = new ArrayList<>();
        GuestOutput out = new GuestOutput(GuestOutput.lines(shown::add));
        for (byte b : "/ # \u001b[6nls\n\u001b[1;32mgreen\u001b[0m \u001b[c\u001b[>c\u001bZ\u001b[5nend\n".getBytes(StandardCharsets.UTF_8)) {
            out.write(b);
        }
        out.flush();
        // Colours stay; the queries whose answers would land at the console prompt go.
        assertEquals(List.of("/ # ls\n\u001b[1;32mgreen\u001b[0m end"), shown);
    }

    @Test
    void rawStreamPassesQueriesToTheTerminal() {
        java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
        GuestOutput out = new GuestOutput(GuestOutput.stream(raw));
        for (byte b : "/ # \u001b[6n".getBytes(StandardCharsets.UTF_8)) out.write(b);
        out.flush();
        assertEquals("/ # \u001b[6n", raw.toString(StandardCharsets.UTF_8));
    }
}

package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CollectorPausesTest {
    @Test
    void aCollectionWhileListeningIsCountedWithItsCauseAndNoneAfterTheLine() throws Exception {
        CollectorPauses p = CollectorPauses.start();
        System.gc();
        // The collectors' notifications arrive on the JVM's service thread, a little later.
        for (int i = 0; i < 100 && p.count() == 0; i++) Thread.sleep(50);
        String line = p.format();
        assertTrue(line.matches("  collector: +the JVM's garbage collector stopped the guest \\d+ times, \\d+ ms in all, "
                + "\\d+ ms at the longest \\(.+\\)\\n"), line);
        assertTrue(line.contains("System.gc()") || p.count() > 1, "the longest is the one asked for, unless others ran: " + line);
        int heard = p.count();
        System.gc();
        Thread.sleep(500);
        assertTrue(p.count() == heard, "format() stops listening");
    }
}

package io.mucheckpoint.vmm.dev;

import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;

/**
 * Logs each distinct kind of odd guest behaviour once. A guest that pokes a register in a loop must
 * not flood the log, and a device must never throw on guest input, so the device says what it
 * ignored the first time and then stays quiet. Not device state: what was logged is not behaviour.
 */
public final class LogOnce {
    private final Logger log;
    private final Set<String> seen = new HashSet<>();

    public LogOnce(Logger log) {
        this.log = log;
    }

    /** Something a guest may do in normal operation (probing, unused features). */
    public void debug(String key, String format, Object... args) {
        if (log.isDebugEnabled() && seen.add(key)) log.debug(format, args);
    }

    /** Something a correct guest should not do, or a feature this model lacks. */
    public void info(String key, String format, Object... args) {
        if (seen.add(key)) log.info(format, args);
    }
}

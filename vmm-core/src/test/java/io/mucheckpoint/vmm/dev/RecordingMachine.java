package io.mucheckpoint.vmm.dev;

import java.util.ArrayList;
import java.util.List;

/** A {@link MachineControl} that writes down what devices asked of it ("exit 3", "reset", "a20 on"). */
public final class RecordingMachine implements MachineControl {
    public final List<String> events = new ArrayList<>();

    @Override
    public void exit(int status) {
        events.add("exit " + status);
    }

    @Override
    public void reset() {
        events.add("reset");
    }

    @Override
    public void setA20(boolean enabled) {
        events.add(enabled ? "a20 on" : "a20 off");
    }
}

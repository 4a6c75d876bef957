package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bundled workload, run on the machine at size=test, prints exactly what its host build printed. */
class WorkloadsTest {
    static List<String> workloads() {
        return Workloads.names();
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void printsTheHostOraclesOutput(String name) throws Exception {
        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot(name, "size=test"), console, b -> {});
        RunResult r = m.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message() + "\n" + console.text());
        assertEquals(0, r.exitStatus(), console.text());
        assertEquals(Workloads.expected(name, "test"), console.text());
    }
}

package io.mucheckpoint.bench;

import java.lang.management.*;
import java.lang.reflect.*;
import java.net.*;
import java.util.*;
/**
 * Compares interpreters of different builds in one JVM, for a machine too busy for wall-clock A/B:
 * each jar (a cli/target/vmm.jar of some commit) is loaded in its own class loader, the same workload
 * runs on each in alternating slices of 20 million instructions, and the guest thread's CPU time per
 * slice gives million instructions per CPU second (the first third of the slices, the JIT's warm-up,
 * is left out; the median of the rest is printed). Alternating slices spread the machine's noise
 * evenly over the builds.
 * {@code java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.InterpreterAB WORKLOAD SLICES OLD.jar NEW.jar...}
 * (guest images from {@code -Dvmm.root}, default the working directory).
 */
public final class InterpreterAB {
    static class Sys {
        String name; ClassLoader cl; Object machine; Method run; Field cpuF; Method icount; byte[] img; String w;
        Sys(String jar, String w) throws Exception {
            name = jar.replaceAll(".*/", ""); this.w = w;
            cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()}, null);
            img = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(System.getProperty("vmm.root", "."), "guests/build", w + ".elf"));
            fresh();
        }
        void fresh() throws Exception {
            Class<?> mcfg = cl.loadClass("io.mucheckpoint.vmm.MachineConfig");
            Object cfg = mcfg.getMethod("defaults").invoke(null);
            Class<?> gi = cl.loadClass("io.mucheckpoint.vmm.GuestImage");
            Class<?> mb = cl.loadClass("io.mucheckpoint.vmm.GuestImage$Multiboot");
            Object image = mb.getConstructor(String.class, byte[].class, String.class).newInstance(w + ".elf", img, "x size=bench");
            Class<?> sinkC = cl.loadClass("io.mucheckpoint.vmm.dev.ConsoleSink");
            Object sink = java.lang.reflect.Proxy.newProxyInstance(cl, new Class<?>[]{sinkC}, (p, m, a) -> null);
            Class<?> mach = cl.loadClass("io.mucheckpoint.vmm.Machine");
            machine = mach.getConstructor(mcfg, gi, sinkC, sinkC).newInstance(cfg, image, sink, sink);
            run = mach.getMethod("run", long.class, long.class);
            cpuF = mach.getField("cpu");
            icount = cpuF.getType().getMethod("icount");
        }
        long ic() throws Exception { return (long) icount.invoke(cpuF.get(machine)); }
    }
    public static void main(String[] a) throws Exception {
        ThreadMXBean tb = ManagementFactory.getThreadMXBean();
        String w = a[0]; int slices = Integer.parseInt(a[1]);
        List<Sys> sys = new ArrayList<>();
        for (int i = 2; i < a.length; i++) sys.add(new Sys(a[i], w));
        Map<String, List<Double>> res = new LinkedHashMap<>();
        for (int s = 0; s < slices; s++) {
            for (Sys x : sys) {
                long i0 = x.ic(), c0 = tb.getCurrentThreadCpuTime();
                Object rr = x.run.invoke(x.machine, Long.MAX_VALUE, i0 + 20_000_000L);
                long i1 = x.ic(), c1 = tb.getCurrentThreadCpuTime();
                if (!rr.toString().contains("LIMIT")) x.fresh();
                if (i1 - i0 > 5_000_000) res.computeIfAbsent(x.name, k -> new ArrayList<>()).add((i1 - i0) / ((c1 - c0) / 1e3));
            }
        }
        for (var e : res.entrySet()) {
            List<Double> l = e.getValue(); int skip = l.size() / 3;
            List<Double> t = new ArrayList<>(l.subList(skip, l.size())); Collections.sort(t);
            System.out.printf("%-12s %s median %.1f M/s per CPU-s (of the last %d slices; first third dropped)%n", e.getKey(), w, t.get(t.size() / 2), t.size());
        }
    }
}

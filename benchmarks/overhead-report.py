#!/usr/bin/env python3
"""Turns benchmarks/overhead.sh data into Markdown tables: per guest and configuration, the median
on/off ratio of the pairs with its bootstrap 95 % interval (wall and CPU time), peak memory, and
the in-process rows. Usage: overhead-report.py DATA..."""
import random
import statistics
import sys
from collections import OrderedDict


def boot_ci(values, rounds=4000, seed=7):
    rnd = random.Random(seed)
    meds = sorted(statistics.median(rnd.choices(values, k=len(values))) for _ in range(rounds))
    return meds[int(rounds * 0.025)], meds[int(rounds * 0.975) - 1]


def pct(x):
    return f"{(x - 1) * 100:+.1f} %"


def main(files):
    e2e = OrderedDict()
    inproc = []
    others = []
    for f in files:
        for line in open(f):
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            label, method, guest, config, pair, system, wall, cpu, rss, status, oth, md5, extra = c
            if method == "e2e":
                e2e.setdefault((guest, config), {}).setdefault(pair, {})[system] = (float(wall), float(cpu), int(rss), extra)
                others.append(float(oth))
            else:
                kv = dict(x.split("=", 1) for x in extra.split(",") if "=" in x)
                inproc.append((guest, config, kv, float(oth) if oth != "-" else 0.0))
    if e2e:
        print("End-to-end (`vmm run`, fresh process each; median of per-pair on/off ratios, bootstrap 95 % interval):\n")
        print("| guest | config | pairs | wall ratio [95 % CI] | CPU ratio [95 % CI] | wall off (median) | peak RSS off / on (MiB) | pause mean / max (ms, median of runs) / longest in any run | collector's longest stop (ms, any run) |")
        print("|---|---|---:|---|---|---:|---:|---:|---:|")
        for (guest, config), ps in e2e.items():
            full = [p for p in ps.values() if "on" in p and "off" in p]
            if not full:
                continue
            rw = [p["on"][0] / p["off"][0] for p in full]
            rc = [p["on"][1] / p["off"][1] for p in full]
            lw, hw = boot_ci(rw)
            lc, hc = boot_ci(rc)
            means, maxes, gcs = [], [], []
            for p in full:
                kv = dict(x.split("=", 1) for x in p["on"][3].split(",") if "=" in x)
                if "mean_us" in kv:
                    means.append(float(kv["mean_us"]) / 1e3)
                    maxes.append(float(kv["max_us"]) / 1e3)
                if "gc_max_ms" in kv:
                    gcs.append(int(kv["gc_max_ms"]))
            pause = f"{statistics.median(means):.2f} / {statistics.median(maxes):.1f} / {max(maxes):.1f}" if means else "-"
            collector = f"{max(gcs)} ({sum(1 for g in gcs if g > 0)} of {len(gcs)} runs had one)" if gcs else "-"
            print(f"| {guest} | {config} | {len(full)} | {pct(statistics.median(rw))} [{pct(lw)}, {pct(hw)}] "
                  f"| {pct(statistics.median(rc))} [{pct(lc)}, {pct(hc)}] | {statistics.median(p['off'][0] for p in full):.1f} s "
                  f"| {statistics.median(p['off'][2] for p in full) / 1024:.0f} / {statistics.median(p['on'][2] for p in full) / 1024:.0f} | {pause} | {collector} |")
        if others:
            print(f"\nCPU time used by other processes while each run ran: median {statistics.median(others):.1f} s, max {max(others):.1f} s.")
    if inproc:
        print("\nIn-process (two machines in one JVM, engine on and off, alternating 20 M-instruction slices after 20 warm-up slices;"
              " guest thread CPU time; median of per-pair ratios, bootstrap 95 % interval):\n")
        print("| guest | config | pairs | CPU ratio [95 % CI] | ratio of sums | pause p50 / p99 / max (ms) | µs per trap / pre-copy |")
        print("|---|---|---:|---|---:|---:|---:|")
        for guest, config, kv, oth in inproc:
            r, lo, hi, s = (float(kv[k]) for k in ("ratio", "lo", "hi", "sum_ratio"))
            print(f"| {guest} | {config} | {kv['pairs']} | {pct(r)} [{pct(lo)}, {pct(hi)}] | {pct(s)} "
                  f"| {float(kv['pause_p50_us']) / 1e3:.2f} / {float(kv['pause_p99_us']) / 1e3:.2f} / {float(kv['pause_max_us']) / 1e3:.1f} "
                  f"| {float(kv['trap_us']):.2f} / {float(kv['precopy_us']):.2f} |")


main(sys.argv[1:])

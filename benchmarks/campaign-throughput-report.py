#!/usr/bin/env python3
"""Summarises benchmarks/campaign-throughput.sh's TSV: per workload, injections per hour per core
before and after (from the injection phase at --workers 1), the median of the per-pair ratios with
their range, the same for the whole command's wall and CPU time, and a projection of a
100,000-injection campaign on one and on sixteen 64-core nodes from the suite's median throughput."""
import statistics
import sys
from collections import defaultdict

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
runs = defaultdict(dict)  # (workload, pair) -> mode -> row
for w, mode, pair, faults, wall, cpu, inj in rows:
    runs[(w, int(pair))][mode] = dict(faults=int(faults), wall=float(wall), cpu=float(cpu), inj=float(inj))
by_w = defaultdict(list)
for (w, p), m in sorted(runs.items()):
    if "before" in m and "after" in m:
        by_w[w].append(m)

def rng(xs):
    return f"{min(xs):.2f}-{max(xs):.2f}"

print("| workload | pairs | injections/h/core before | after | ratio (median, range) | command wall ratio | command CPU ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
all_after, all_ratio = [], []
for w, ms in by_w.items():
    before = [m["before"]["faults"] * 3600 / m["before"]["inj"] for m in ms]
    after = [m["after"]["faults"] * 3600 / m["after"]["inj"] for m in ms]
    ratio = [a / b for a, b in zip(after, before)]
    wall = [m["before"]["wall"] / m["after"]["wall"] for m in ms]
    cpu = [m["before"]["cpu"] / m["after"]["cpu"] for m in ms]
    all_after.append(statistics.median(after))
    all_ratio.append(statistics.median(ratio))
    print(f"| {w} | {len(ms)} | {statistics.median(before):,.0f} | {statistics.median(after):,.0f} | "
          f"{statistics.median(ratio):.2f}x ({rng(ratio)}) | {statistics.median(wall):.2f}x ({rng(wall)}) | "
          f"{statistics.median(cpu):.2f}x ({rng(cpu)}) |")
if all_after:
    per_core = statistics.median(all_after)
    print()
    print(f"Suite: median speed-up of the injection phase {statistics.median(all_ratio):.2f}x "
          f"(per workload {min(all_ratio):.2f}x-{max(all_ratio):.2f}x); median {per_core:,.0f} injections per hour per core after.")
    for nodes in (1, 16):
        hours = 100_000 / (per_core * 64 * nodes)
        print(f"A 100,000-injection campaign of these at that rate on {nodes} 64-core node{'s' if nodes > 1 else ''}: "
              f"{hours * 60:,.0f} min ({hours:.2f} h), assuming cores as fast as these and no other load.")

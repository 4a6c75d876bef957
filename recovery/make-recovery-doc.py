#!/usr/bin/env python3
"""Regenerates docs/recovery.md from the JSON that `vmm inject --json FILE` writes.

Usage: recovery/make-recovery-doc.py CAMPAIGN.json [CAMPAIGN.json ...] > docs/recovery.md
(recovery/campaign-suite.sh runs one campaign per bundled workload and calls this.)
Each file is one campaign (one workload, possibly several latency bounds). The exact command that
produced a file is read from the file's "command" field if present, else reconstructed.
"""
import json, sys, datetime, platform

NONE = {"count": 0, "percent": 0.0, "ci95": [0.0, 0.0]}  # an outcome older JSON does not have
DETECTED = ("DETECTED_RECOVERED", "DETECTED_RECOVERED_ESCAPED", "DETECTED_NOT_RECOVERED")

OUTCOMES = [("NOT_ACTIVATED", "not activated"), ("MASKED", "masked"), ("DETECTED_RECOVERED", "detected, recovered"),
            ("DETECTED_RECOVERED_ESCAPED", "detected, recovered, wrong output escaped"), ("DETECTED_NOT_RECOVERED", "detected, not recovered"), ("SDC", "silent data corruption"), ("HANG", "hang")]

def wilson(k, n, z=1.96):
    """The 95 % Wilson score interval of k successes in n, in percent."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return (100 * max(0.0, c - h), 100 * min(1.0, c + h))

def cell(k, n):
    lo, hi = wilson(k, n)
    return f"{k:,} ({100.0 * k / n:.1f} %, {lo:.1f}–{hi:.1f})" if n else "–"

def clean_command(cmd):
    """The command as given, without the output files' paths and --workers (neither changes a result)."""
    words, out, skip = cmd.split(), [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--json", "--journal", "--resume", "--workers", "--plot"):
            skip = True
            continue
        if w.startswith(("--json=", "--journal=", "--resume=", "--workers=", "--plot=")):
            continue
        out.append(w)
    return " ".join(out)

TARGETS = [("REG", "the eight general registers"), ("EIP", "the instruction pointer"), ("EFLAGS", "the flags"),
           ("SEG", "segment bases"), ("MEM", "memory, as raw upsets"), ("X87", "x87 registers"), ("CR", "CR0, CR3, CR4")]

def by_target(docs):
    """Outcomes per fault target over every campaign and bound."""
    res = [x for d in docs for r in d["runs"] for x in r["results"]]
    seen = sorted(set(x["target"] for x in res), key=lambda t: [k for k, _ in TARGETS].index(t) if t in [k for k, _ in TARGETS] else 99)
    if len(seen) < 2:
        return ""
    lines = ["\n### By fault target\n", "Every injection of the suite, by where the fault went. 95 % Wilson intervals.\n",
             "| outcome |" + "".join(f" {t.lower()} |" for t in seen), "|---|" + "---:|" * len(seen)]
    n = {t: sum(1 for x in res if x["target"] == t) for t in seen}
    for key, label in OUTCOMES:
        lines.append(f"| {label} |" + "".join(f" {cell(sum(1 for x in res if x['target'] == t and x['outcome'] == key), n[t])} |" for t in seen))
    lines.append("| injections |" + "".join(f" {n[t]:,} |" for t in seen))
    row = "| **recovered, no wrong byte shown, of detected** |"
    for t in seen:
        det = sum(1 for x in res if x["target"] == t and x["outcome"] in DETECTED)
        rec = sum(1 for x in res if x["target"] == t and x["outcome"] == "DETECTED_RECOVERED")
        row += f" {cell(rec, det)} |" if det else " – (none detected) |"
    lines.append(row)
    named = "; ".join(f"{t.lower()}: {dict(TARGETS).get(t, t)}" for t in seen)
    lines.append(f"\n({named}.)\n")
    return "\n".join(lines) + "\n"

def ms(ns):
    return "0" if ns == 0 else ("%g ms" % (ns / 1e6))

def suite_summary(docs):
    """All workloads together, per latency bound (only bounds every campaign ran)."""
    bounds = sorted(set.intersection(*(set(r["latencyNanos"] for r in d["runs"]) for d in docs)))
    total = sum(d["faults"] for d in docs)
    lines = [f"\n## The suite: {total:,} injections over {len(docs)} workloads\n",
             "Workloads: " + ", ".join(d["workload"].replace(".elf", "") for d in docs) + ". Counts summed over the "
             "workloads; each workload's own table follows.\n"]
    if len(set(d["faults"] for d in docs)) == 1 and len(set(d["seed"] for d in docs)) == 1:
        lines.append(f"Produced by `recovery/campaign-suite.sh {docs[0]['faults']} {docs[0]['seed']}` "
                     "(one `vmm inject` per workload; each command is given below).\n")
    lines.append("| outcome |" + "".join(f" L = {ms(b)} |" for b in bounds))
    lines.append("|---|" + "---:|" * len(bounds))
    def count(b, key):
        return sum(r["summary"]["outcomes"].get(key, NONE)["count"] for d in docs for r in d["runs"] if r["latencyNanos"] == b)
    for key, label in OUTCOMES:
        lines.append(f"| {label} |" + "".join(f" {cell(count(b, key), total)} |" for b in bounds))
    row = "| **recovered, no wrong byte shown, of detected** |"
    for b in bounds:
        rec, det = count(b, "DETECTED_RECOVERED"), sum(count(b, k) for k in DETECTED)
        row += f" {cell(rec, det)} of {det:,} |" if det else " – |"
    lines.append(row)
    def results(b):
        return [x for d in docs for r in d["runs"] if r["latencyNanos"] == b for x in r["results"]]
    lines.append("| injections whose recovery escalated |" + "".join(
        f" {sum(1 for x in results(b) if x['escalations'] > 0)} |" for b in bounds))
    lines.append("| escalations in all |" + "".join(f" {sum(x['escalations'] for x in results(b))} |" for b in bounds))
    lines.append("| rollbacks in all |" + "".join(f" {sum(x['recoveries'] for x in results(b))} |" for b in bounds))
    rates = [round(count(b, "DETECTED_RECOVERED") / max(1, sum(count(b, k) for k in DETECTED)), 4)
             for b in bounds]
    if len(set(rates)) == 1 and len(bounds) > 1:
        lines.append("\nThe outcome does not depend on the bound here: when a rollback lands on a checkpoint that already "
                     "holds the error, the error is detected again and recovery escalates to the next older checkpoint, so "
                     "a bound that is too small costs re-execution (the escalations above), not the run. A bound that "
                     "covers the real error latency rolls back far enough at once.")
    return "\n".join(lines) + "\n"

def main(paths):
    out = []
    out.append("# Fault-injection results\n")
    out.append("Generated by `recovery/make-recovery-doc.py` from the JSON of `vmm inject`; do not edit by hand.\n")
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip(); break
    except OSError:
        pass
    out.append(f"Machine: {cpu}, {platform.system()} {platform.release()}; generated {datetime.date.today()}.\n")
    out.append("Each injection runs with checkpointing and automatic recovery (from the newest golden checkpoint before its fault, with the golden run's checkpoint history, and stopped once its state is the golden run's again: the results of a run from boot to end, see campaigns.md), flips the chosen bits "
               "at the chosen instruction, runs to the end (or to three times the golden run's instruction count plus 50 million, or until it has executed 20 golden runs plus 100 million, re-executions after rollbacks included) and is classified "
               "against the golden run's output by every byte the console delivered, in order: bytes of a timeline that a "
               "rollback later corrected count, since the user saw them. A run that was detected, rolled back and ended "
               "with the right output after wrong bytes had reached the console is *detected, recovered, wrong output "
               "escaped*; only runs that showed no wrong byte are *detected, recovered*. A detection stops the run at the "
               "instruction that made it. Campaigns run with a hang watchdog (by default four times the golden run's "
               "longest stretch without console output or heartbeat), so a hang is a detection. With `--output-commit "
               "latency` console output is held until the checkpoint after it is older than the latency bound L: an "
               "error detected within L never shows. Percentages carry 95 % Wilson confidence intervals.\n")
    out.append("*Activation* says whether the corrupted location was read before it was overwritten (memory: watched "
               "exactly; processor state: compared in lockstep with a golden copy for up to 100,000 instructions). "
               "A fault that is *not activated* cannot affect the run; *masked* ones were used but did not change the output.\n")
    out.append("What output commit (`--output-commit latency`) changes, on a small campaign, and what it costs: "
               "[output-commit.md](output-commit.md). How campaigns are made cheap, journaled, resumed and sharded: "
               "[campaigns.md](campaigns.md). "
               "Campaign throughput, measured by `benchmarks/campaign-throughput.sh` (alternating pairs, one core): fast-forward, convergence and `--prune def-use` together give 1.65x the injections per hour per core of booting every injection and running it to the end in the default configuration (1.27x-3.16x by workload) and 2.28x in this suite's (1.53x-5.33x), short of the 5x goal; tables, commands and what stands in the way in [campaigns.md](campaigns.md#throughput-what-it-saves-measured). "
               "Checkpoint corruption, error latency and recovery cost: "
               "[recovery-measurements.md](recovery-measurements.md).\n")
    docs = [json.load(open(p)) for p in paths]
    if len(docs) > 1:
        out.append(suite_summary(docs))
        out.append(by_target(docs))
    for p, d in zip(paths, docs):
        cmd = clean_command(d["command"]) if d.get("command") else ("vmm inject %s --faults %d --seed %d --target %s --bits %d --keep %d --interval %s%s --json %s" % (
            d["workload"], d["faults"], d["seed"], d["target"], d["bits"], d["keep"], d["interval"],
            (" --sweep-latency " + ",".join(ms(r["latencyNanos"]).replace(" ", "") for r in d["runs"])) if len(d["runs"]) > 1 else
            (" --latency " + ms(d["runs"][0]["latencyNanos"]).replace(" ", "")), p))
        out.append(f"\n## {d['workload']}: {d['faults']} faults ({d['target']}, {d['bits']}-bit), seed {d['seed']}\n")
        out.append(f"Command: `{cmd}`  \nGolden run: {d['goldenInstructions']:,} instructions; checkpoints every "
                   f"{d['interval']}, at most {d['keep']} kept.\n")
        header = "| outcome |" + "".join(f" L = {ms(r['latencyNanos'])} |" for r in d["runs"])
        out.append(header)
        out.append("|---|" + "---:|" * len(d["runs"]))
        for key, label in OUTCOMES:
            row = f"| {label} |"
            for r in d["runs"]:
                o = r["summary"]["outcomes"].get(key, NONE)
                row += f" {o['count']} ({o['percent']:.1f} %, {o['ci95'][0]:.1f}–{o['ci95'][1]:.1f}) |"
            out.append(row)
        row = "| **recovered, no wrong byte shown, of detected** |"
        for r in d["runs"]:
            o = r["summary"]["outcomes"]
            det = sum(o.get(k, NONE)["count"] for k in DETECTED)
            row += f" {100.0 * o['DETECTED_RECOVERED']['count'] / det:.1f} % of {det} |" if det else " – |"
        out.append(row)
        esc = []
        for r in d["runs"]:
            n = sum(1 for x in r["results"] if x["escalations"] > 0)
            esc.append(f"L = {ms(r['latencyNanos'])}: {n}")
        out.append("\nInjections whose recovery had to escalate to an older checkpoint: " + ", ".join(esc) + ".\n")
    print("\n".join(out))

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

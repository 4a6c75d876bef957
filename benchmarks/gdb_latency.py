# Runs inside gdb (gdb -batch -x gdb_latency.py ELF): latency of reverse-stepi and reverse-continue
# as a gdb user gets them, against vmm run --gdb. Environment: PORT, DEPTH_BREAK, DEPTH_IGNORE,
# HOT_BREAK, N (samples per phase), OUT (a file for the JSON result line).
import gdb, json, os, statistics, time

port, n = os.environ["PORT"], int(os.environ.get("N", "100"))
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote localhost:" + port)

def run(cmd):
    t = time.perf_counter()
    gdb.execute(cmd, to_string=True)
    return (time.perf_counter() - t) * 1000.0

def icount():
    return int(gdb.parse_and_eval("$icount"))

def summary(ms):
    s = sorted(ms)
    return {"n": len(s), "first": round(ms[0], 3), "median": round(statistics.median(s), 3),
            "p95": round(s[max(0, int(round(0.95 * len(s))) - 1)], 3), "max": round(s[-1], 3)}

# Deep into the run first, then a breakpoint the guest hits often.
gdb.execute("break " + os.environ["DEPTH_BREAK"], to_string=True)
ignore = int(os.environ.get("DEPTH_IGNORE", "0"))
if ignore:
    gdb.execute("ignore 1 %d" % ignore, to_string=True)
gdb.execute("continue", to_string=True)
gdb.execute("delete", to_string=True)
gdb.execute("break " + os.environ["HOT_BREAK"], to_string=True)
gdb.execute("continue", to_string=True)
depth = icount()
gdb.execute("delete", to_string=True)

# A: consecutive reverse-stepi from a point reached by running forward.
rsi = [run("reverse-stepi") for _ in range(n)]
rsi_back = depth - icount()

# B: continue to the next hit, then reverse-continue back to the one before it, n times.
gdb.execute("break " + os.environ["HOT_BREAK"], to_string=True)
gdb.execute("continue", to_string=True)
pairs, spacing = [], []
for _ in range(n):
    before = icount()
    gdb.execute("continue", to_string=True)
    after = icount()
    pairs.append(run("reverse-continue"))
    spacing.append(after - before)
    if icount() != before:
        raise gdb.GdbError("reverse-continue landed at %d, not on the previous hit at %d" % (icount(), before))
    gdb.execute("continue", to_string=True)

# C: consecutive reverse-continues, walking back hit by hit (until the start of history, if it comes first).
walk, landed = [], 0
for _ in range(n):
    was = icount()
    walk.append(run("reverse-continue"))
    if icount() == was or icount() == 0:
        break
    landed += 1

stats = gdb.execute("monitor stats", to_string=True).strip().splitlines()[-1]
result = {"depth": depth, "rsi": summary(rsi), "rsi_instructions_back": rsi_back, "rc_after_continue": summary(pairs),
          "hit_spacing_median": int(statistics.median(spacing)), "rc_walk": summary(walk), "rc_walk_landed": landed,
          "stub": stats}
with open(os.environ["OUT"], "w") as f:
    f.write(json.dumps(result) + "\n")
gdb.execute("kill")

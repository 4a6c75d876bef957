#!/usr/bin/env bash
# Submits a sharded fault-injection campaign to Slurm: a job array of N shards
# (recovery/slurm/campaign.sbatch), then the merge job (recovery/slurm/merge.sbatch) that runs when
# every shard has ended well and writes DIR/merged.json, the same JSON that the unsharded
# `vmm inject --json` gives.
#
#   recovery/slurm/submit.sh [-n N] [-d DIR] [--wait] [--sbatch OPTION]... WORKLOAD [vmm inject options]
#
#   -n N            shards, one array task each (default 4)
#   -d DIR          the campaign's directory: shard-K.jsonl, merged.json, the jobs' output files
#                   (default campaign-<date>-<time>); on a file system every node sees
#   --wait          stay until the merge job has ended: exit 0 if it completed (merged.json
#                   written), else 1 with the state it ended in
#   --sbatch OPTION one more option for both sbatch calls, e.g. --sbatch --partition=short
#   WORKLOAD ...    the workload and `vmm inject` options, the same for every shard
#                   (e.g. quantum --faults 10000 --seed 7 --workers 1)
#
# Environment: VMM, the vmm command the jobs run (default vmm on PATH; e.g. VMM=$PWD/vmm), and
# Slurm's own: SLURM_CONF, SBATCH_PARTITION, SBATCH_TIMELIMIT, SBATCH_ACCOUNT...
# Standard output: "shards JOBID" and "merge JOBID", one line each, as soon as each is submitted.
# A failed shard cancels the merge (--kill-on-invalid-dep); resubmitting the same command with the
# same -d continues the shards' journals (campaign.sbatch resumes them) instead of starting again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "submit.sh: $*" >&2
  echo "usage: submit.sh [-n N] [-d DIR] [--wait] [--sbatch OPTION]... WORKLOAD [vmm inject options]" >&2
  exit 64
}

shards=4
dir="campaign-$(date +%Y%m%d-%H%M%S)"
wait=no
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) [ $# -ge 2 ] || usage "-n needs a number"; shards="$2"; shift 2 ;;
    -d) [ $# -ge 2 ] || usage "-d needs a directory"; dir="$2"; shift 2 ;;
    --wait) wait=yes; shift ;;
    --sbatch) [ $# -ge 2 ] || usage "--sbatch needs an option"; extra+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) usage "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage "name the workload"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || usage "-n takes a positive number, not '$shards'"
for a in "$@"; do
  case "$a" in
    --shard|--shard=*|--journal|--journal=*|--resume|--resume=*) usage "$a is set per shard by campaign.sbatch: leave it out" ;;
  esac
done
command -v sbatch >/dev/null 2>&1 || { echo "submit.sh: sbatch not found: is Slurm installed?" >&2; exit 69; }

# Once here, before any job: a wrong VMM fails now, not in every task, and ./vmm builds its jar
# now rather than in N tasks at once.
if ! "${VMM:-vmm}" --version >/dev/null; then
  echo "submit.sh: '${VMM:-vmm} --version' failed: set VMM to the vmm command the jobs are to run" >&2
  exit 69
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
export CAMPAIGN_DIR="$dir" SHARDS="$shards" VMM="${VMM:-vmm}"

array="$(sbatch --parsable --array="0-$((shards - 1))" --output="$dir/task-%a.out" \
  ${extra[@]+"${extra[@]}"} "$here/campaign.sbatch" "$@")"
array="${array%%;*}"   # --parsable prints "id;cluster" on multi-cluster sites
echo "shards $array"

merge="$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$dir/merge.out" ${extra[@]+"${extra[@]}"} "$here/merge.sbatch")"
merge="${merge%%;*}"
echo "merge $merge"
[ "$wait" = yes ] || exit 0

# Not sbatch --wait: it exits 0 for a job cancelled before it ran, as the merge is when a shard fails.
state=""
while :; do
  info="$(scontrol show job -o "$merge" 2>/dev/null)" || info=""
  state="$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$info")"
  case "$state" in
    ""|PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|RESIZING) ;;
    *) break ;;
  esac
  if [ -z "$state" ]; then
    # The controller forgot the job (MinJobAge passed): what it left behind decides.
    [ -s "$dir/merged.json" ] && state=COMPLETED || state=UNKNOWN
    break
  fi
  sleep 1
done
if [ "$state" = COMPLETED ]; then
  echo "submit.sh: merged: $dir/merged.json" >&2
  exit 0
fi
reason="$(sed -n 's/.*Reason=\([^ ]*\).*/\1/p' <<<"$info")"
echo "submit.sh: the merge job $merge ended $state${reason:+ ($reason)}; see $dir/merge.out and $dir/task-*.out (task I is shard I+1)" >&2
exit 1

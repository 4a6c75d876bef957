#!/usr/bin/env bash
# Stops the private cluster that recovery/slurm/start-local.sh started (same VMM_SLURM_DIR):
# slurmd, slurmctld, then munged, each by the pid in its own pid file. Its state directory stays
# (its munge key is reused by the next start); delete $VMM_SLURM_DIR to forget it.
set -euo pipefail

dir="${VMM_SLURM_DIR:-/var/tmp/mucheckpoint-slurm}"

stop() {
  local name="$1" pidfile="$2" pid
  if [ -s "$pidfile" ] && pid="$(cat "$pidfile")" && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop-local.sh: $name (pid $pid) still running after 10 s" >&2
      return 1
    fi
    echo "stop-local.sh: stopped $name" >&2
  fi
  rm -f "$pidfile"
}

status=0
stop slurmd "$dir/run/slurmd.pid" || status=1
stop slurmctld "$dir/run/slurmctld.pid" || status=1
stop munged "$dir/munge/munged.pid" || status=1
exit $status

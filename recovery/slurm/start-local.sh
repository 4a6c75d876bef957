#!/usr/bin/env bash
# Starts a private single-node Slurm cluster on this machine: munged, slurmctld and slurmd for
# localhost, each started directly (no systemd: this also works in a container), all state under
# one directory of its own, so that it neither needs nor touches /etc/slurm, /etc/munge or a
# system Slurm.
#
#   recovery/slurm/start-local.sh      start (or find running) and wait until the node is idle
#   recovery/slurm/stop-local.sh       stop the three daemons again
#
# Environment:
#   VMM_SLURM_DIR   the cluster's directory (default /var/tmp/mucheckpoint-slurm): its munge key and
#                   socket, slurm.conf, spool and state directories, logs, pid files.
#   VMM_SLURM_PORT  slurmctld's port (default 6817); slurmd listens on the next one.
#
# Then point Slurm's commands at it:  export SLURM_CONF=$VMM_SLURM_DIR/slurm.conf  (the script
# prints this line; $VMM_SLURM_DIR/env holds it too, for `source`).
#
# Run as root, it runs jobs for every user; run as another user, it runs that user's jobs only
# (every daemon then runs as that user).
#
# Running it again while the cluster runs does nothing but check that the node is up. Containers
# often have no usable cgroups, so the node tracks processes by their parent (proctrack/linuxproc)
# and binds no tasks (task/none). If a daemon cannot start, one line says why (the last fatal line it logged)
# and the exit status is 1.
set -euo pipefail

dir="${VMM_SLURM_DIR:-/var/tmp/mucheckpoint-slurm}"
port="${VMM_SLURM_PORT:-6817}"
conf="$dir/slurm.conf"
socket="$dir/munge/munge.socket"
export SLURM_CONF="$conf"

fail() {
  echo "start-local.sh: $*" >&2
  exit 1
}

for cmd in munged munge slurmctld slurmd sinfo scontrol; do
  command -v "$cmd" >/dev/null 2>&1 || fail "$cmd not found: install Debian's slurm-wlm and munge"
done

# Where each log stood before this start, so that a reason is never one from an earlier run.
declare -A log_start=()
mark() {
  log_start[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0)
}

# A daemon's last fatal (else error, else last) line logged since this start, to say why it stopped.
why() {
  local log="$1" text
  text="$(tail -c +$(( ${log_start[$log]:-0} + 1 )) "$log" 2>/dev/null || true)"
  if [ -z "$text" ]; then
    echo "(nothing in $log)"
    return
  fi
  # slurmd logs harmless errors at start (e.g. no PMIx library): a fatal line names the cause.
  grep -i 'fatal' <<<"$text" | tail -n 1 || grep -i 'error' <<<"$text" | tail -n 1 || tail -n 1 <<<"$text"
}

alive() {
  # The pid file's process is running.
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Running, or still starting: a daemon writes its pid file only after it forked into the background,
# a moment after the command that started it returned.
running() {
  alive "$1" && return 0
  [ ! -s "$1" ] && [ $SECONDS -lt $((started + 15)) ]
}

node_state() {
  sinfo --noheader --node="$host" --format=%T 2>/dev/null | head -n 1 || true
}

mkdir -p "$dir"/munge "$dir"/ctld "$dir"/spool "$dir"/log "$dir"/run
# Every user of this machine may submit, so the socket's directory is searchable; the key is not.
chmod 755 "$dir"/munge

# The node as slurmd itself sees it: real hostname, CPUs, sockets, cores and memory, so that the
# controller never drains it for a mismatch.
host="$(hostname -s)"
node_line="$(slurmd -C | head -n 1)" || fail "slurmd -C failed"
node_line="${node_line#NodeName=* }"
user="$(id -un)"

# The configuration is rewritten only when it differs, so that a second run with a running cluster
# finds exactly its own file.
new_conf="$(cat <<EOF
# Written by recovery/slurm/start-local.sh: a private single-node cluster (see that script).
ClusterName=mucheckpoint
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
# No cgroups: a container may not offer them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
# Finished jobs stay visible to scontrol for ten minutes (there is no accounting database).
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=campaign Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
  if alive "$dir/run/slurmctld.pid" || alive "$dir/run/slurmd.pid"; then
    # Running with another configuration (the machine or this script changed): start afresh.
    echo "start-local.sh: slurm.conf changed: restarting the cluster" >&2
    "$(dirname "${BASH_SOURCE[0]}")/stop-local.sh" || fail "could not stop the running cluster"
  fi
  printf '%s\n' "$new_conf" > "$conf"
fi
: > "$dir/plugstack.conf"
printf 'export SLURM_CONF=%s\n' "$conf" > "$dir/env"

# munged: its own key (made once), socket, pid, log and seed files.
if ! alive "$dir/munge/munged.pid"; then
  if [ ! -s "$dir/munge/munge.key" ]; then
    (umask 077 && head -c 1024 /dev/urandom > "$dir/munge/munge.key")
  fi
  chmod 400 "$dir/munge/munge.key"
  rm -f "$socket" "$socket.lock"
  mark "$dir/log/munged.log"
  munged --socket="$socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" 2>>"$dir/log/munged.log" \
    || fail "munged did not start: $(why "$dir/log/munged.log")"
fi
munge --socket="$socket" -n </dev/null | unmunge --socket="$socket" >/dev/null 2>&1 \
  || fail "munged does not answer on $socket: $(why "$dir/log/munged.log")"

mark "$dir/log/slurmctld.log"
mark "$dir/log/slurmd.log"
if ! alive "$dir/run/slurmctld.pid"; then
  slurmctld -f "$conf" 2>>"$dir/log/slurmctld.log" \
    || fail "slurmctld did not start: $(why "$dir/log/slurmctld.log")"
fi
if ! alive "$dir/run/slurmd.pid"; then
  slurmd -f "$conf" -N "$host" 2>>"$dir/log/slurmd.log" \
    || fail "slurmd did not start: $(why "$dir/log/slurmd.log")"
fi

# Wait for the node to register and become idle (or mixed/allocated if jobs already run).
started=$SECONDS
deadline=$((SECONDS + 60))
state=""
while [ $SECONDS -lt $deadline ]; do
  running "$dir/run/slurmctld.pid" || fail "slurmctld exited: $(why "$dir/log/slurmctld.log")"
  running "$dir/run/slurmd.pid" || fail "slurmd exited: $(why "$dir/log/slurmd.log")"
  state="$(node_state)"
  case "$state" in
    idle*|mixed*|allocated*|completing*)
      echo "start-local.sh: Slurm is up: node $host $state, partition campaign ($dir)" >&2
      echo "export SLURM_CONF=$conf"
      exit 0 ;;
    down*|drain*)
      # A node left down by an earlier run (e.g. stopped uncleanly): bring it back once.
      scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
fail "node $host not idle after 60 s (state '${state:-none}'): $(why "$dir/log/slurmd.log")"

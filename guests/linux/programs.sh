#!/usr/bin/env bash
# Builds the initramfs of real programs (the overhead suite's SPEC CINT stand-ins): Debian
# bookworm's own i386 binaries of bzip2, xz, gzip, sort (coreutils), sqlite3, lua5.4 and perl with
# the libraries they load, busybox as the shell around them, and a generated text corpus. Then runs
# every program on the HOST, chrooted into the same tree (the same binaries and script on real
# hardware), and records the hash of each output: what a run in the emulator must print.
#
# Usage: guests/linux/programs.sh     prints the paths of the initramfs and the hash file
# Cached in $VMM_LINUX_CACHE/programs (as guests/linux/build.sh, which calls this). Booted with
#   --linux bzImage --initrd programs.gz --append '... vmmcmd="/bench/run bzip2 test"'
# the guest prints "bench bzip2 test sha256=HEX status=0" and ends the VM with the status; with no
# vmmcmd it prints "bench: ready" and reads one command line from the console.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${VMM_LINUX_CACHE:-/var/cache/mucheckpoint/linux}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache="$HOME/.cache/mucheckpoint/linux"; mkdir -p "$cache"; fi
mkdir -p "$cache/programs"
cd "$cache/programs"

programs=(bzip2 xz-utils gzip coreutils sqlite3 lua5.4 perl-base busybox-static)
# Every library the programs load (checked below: a missing one stops the build with its name).
libraries=(libc6 libbz2-1.0 liblzma5 zlib1g libsqlite3-0 libreadline8 libtinfo6 libcrypt1 libselinux1
           libpcre2-8-0 libacl1 libattr1 libgmp10 libssl3)

fetch() {
  local missing=()
  for p in "${programs[@]}" "${libraries[@]}"; do
    ls "${p}"_*_i386.deb >/dev/null 2>&1 || missing+=("$p:i386")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { echo "programs.sh: apt-get is needed to fetch the Debian packages" >&2; exit 1; }
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    if [ "$(id -u)" = 0 ]; then dpkg --add-architecture i386; else echo "programs.sh: run 'dpkg --add-architecture i386' as root first" >&2; exit 1; fi
  fi
  # The mirror is sometimes mid-sync: a partial update is fine if the packages resolve.
  for attempt in 1 2 3; do
    { [ "$(id -u)" = 0 ] && apt-get update -o Acquire::Retries=3 >/dev/null 2>&1; } || true
    if apt-get download -o Acquire::Retries=3 "${missing[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 10
  done
  echo "programs.sh: could not download ${missing[*]}" >&2
  exit 1
}

fetch
debs=$(for p in "${programs[@]}" "${libraries[@]}"; do ls "${p}"_*_i386.deb | sort -V | tail -1; done)
stamp="$(echo $debs | sha256sum | cut -c1-16)+$(cat "$here/programs.sh" "$here"/programs/* | sha256sum | cut -c1-16)"
if [ ! -f built.stamp ] || [ "$(cat built.stamp)" != "$stamp" ]; then
  rm -rf x root programs.gz programs.sha256 programs.sha256.new && mkdir -p x
  for d in $debs; do dpkg-deb -x "$d" x; done
  mkdir -p root/bin root/usr/bin root/proc root/sys root/dev root/tmp root/etc root/bench root/lib/i386-linux-gnu
  cp x/bin/busybox root/bin/busybox
  for a in sh mount echo cat uname dd printf sleep ls setsid cttyhack mkdir rm grep; do ln -sf busybox "root/bin/$a"; done
  bins="x/bin/bzip2 x/usr/bin/xz x/bin/gzip x/usr/bin/sort x/usr/bin/head x/usr/bin/cut x/usr/bin/sha256sum
        x/usr/bin/sqlite3 x/usr/bin/lua5.4 x/usr/bin/perl"
  for b in $bins; do cp -L "$b" root/usr/bin/; done
  cp -L x/lib/ld-linux.so.2 root/lib/ld-linux.so.2
  # The libraries each binary needs, and theirs in turn, from the unpacked packages.
  todo=$(for b in root/usr/bin/*; do readelf -d "$b" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'; done | sort -u)
  done_libs=""
  while [ -n "$todo" ]; do
    next=""
    for l in $todo; do
      case " $done_libs " in *" $l "*) continue ;; esac
      src=$(ls x/lib/i386-linux-gnu/"$l" x/usr/lib/i386-linux-gnu/"$l" 2>/dev/null | head -1 || true)
      [ -n "$src" ] || { echo "programs.sh: no package here provides $l (add it to libraries)" >&2; exit 1; }
      cp -L "$src" root/lib/i386-linux-gnu/
      done_libs="$done_libs $l"
      next="$next $(readelf -d "$src" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')"
    done
    todo=$(echo $next | tr ' ' '\n' | sort -u)
  done
  python3 "$here/programs/corpus.py" $((1024 * 1024)) > root/bench/corpus
  cp "$here/programs/run" "$here/programs/words.lua" "$here/programs/pairs.pl" "$here/programs/workload.sql" root/bench/
  chmod +x root/bench/run
  cat > root/init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs -o size=64m tmpfs /tmp
echo "uCheckpoint programs initramfs: Linux $(uname -r)"
vmm_exit() {
  # isa-debug-exit at port 0xF4: the VMM (or QEMU) ends with this status
  printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo "could not write to /dev/port"; while true; do sleep 3600; done
}
if [ -z "$vmmcmd" ]; then
  echo "bench: ready"
  read -r vmmcmd
fi
sh -c "$vmmcmd"
vmm_exit $?
INIT
  chmod +x root/init
  # The hashes a guest run must print: the same programs on the host (needs root for chroot).
  if [ "$(id -u)" = 0 ]; then
    mount -t tmpfs -o size=64m tmpfs root/tmp
    trap 'umount root/tmp 2>/dev/null || true' EXIT
    for size in test bench; do
      for p in bzip2 xz gzip sort sqlite3 lua perl; do
        line=$(chroot root /bin/sh /bench/run "$p" "$size")
        case "$line" in "bench $p $size sha256="*" status=0") echo "$line" >> programs.sha256.new ;;
          *) echo "programs.sh: on the host, /bench/run $p $size printed: $line" >&2; exit 1 ;; esac
      done
    done
    umount root/tmp; trap - EXIT
    mv programs.sha256.new programs.sha256
  else
    echo "programs.sh: not root, so the host hashes (chroot) were not made; the programs test will skip" >&2
  fi
  python3 "$here/newc.py" root | gzip -9 -n > programs.gz
  echo "$stamp" > built.stamp
fi
echo "$cache/programs/programs.gz"
echo "$cache/programs/programs.sha256"

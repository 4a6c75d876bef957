#!/usr/bin/env bash
# Fetches Debian bookworm's i386 kernel (linux-image-6.1.0-*-686-unsigned) and busybox-static, and
# builds a small initramfs for them. Nothing downloaded goes into the clone: packages and the
# results are cached in $VMM_LINUX_CACHE (default /var/cache/mucheckpoint/linux, or
# ~/.cache/mucheckpoint/linux when that is not writable).
#
# Usage: guests/linux/build.sh            prints the paths of the kernel and the initramfs
# (and builds programs/programs.gz, the real programs of the overhead suite: see programs.sh)
# The initramfs's init mounts /proc, /sys and /dev, prints a banner, then runs the command in the
# kernel parameter vmmcmd="..." (ending the VM through isa-debug-exit with the command's status)
# or, without it, starts an interactive shell (and ends the VM when the shell exits). When the
# machine has a virtio PCI device (vmm run --drive, or QEMU's -drive if=virtio), init first loads
# the kernel package's virtio-blk and ext4 modules (in the order guests/linux/modules.py gives),
# so /dev/vda can be mounted; mkdisk.sh makes an ext4 image from a directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${VMM_LINUX_CACHE:-/var/cache/mucheckpoint/linux}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache="$HOME/.cache/mucheckpoint/linux"; mkdir -p "$cache"; fi
cd "$cache"

fetch() {
  if ls linux-image-6.1.0-*-686-unsigned_*_i386.deb busybox-static_*_i386.deb >/dev/null 2>&1; then return 0; fi
  command -v apt-get >/dev/null || { echo "build.sh: apt-get is needed to fetch the Debian packages" >&2; exit 1; }
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    if [ "$(id -u)" = 0 ]; then dpkg --add-architecture i386; else echo "build.sh: run 'dpkg --add-architecture i386' as root first" >&2; exit 1; fi
  fi
  # The mirror is sometimes mid-sync: a partial update is fine if the packages resolve.
  for attempt in 1 2 3; do
    { [ "$(id -u)" = 0 ] && apt-get update -o Acquire::Retries=3 >/dev/null 2>&1; } || true
    kpkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-686-unsigned$' | awk '{print $1}' | sort -V | tail -1)
    if [ -n "$kpkg" ] && apt-get download -o Acquire::Retries=3 "$kpkg:i386" busybox-static:i386 >/dev/null 2>&1; then return 0; fi
    sleep 10
  done
  echo "build.sh: could not download the kernel and busybox packages" >&2
  exit 1
}

fetch
kdeb=$(ls linux-image-6.1.0-*-686-unsigned_*_i386.deb | sort -V | tail -1)
bdeb=$(ls busybox-static_*_i386.deb | sort -V | tail -1)
stamp="$kdeb+$bdeb+$(cat "$here/build.sh" "$here/newc.py" "$here/modules.py" | sha256sum | cut -c1-16)"
if [ ! -f built.stamp ] || [ "$(cat built.stamp)" != "$stamp" ]; then
  rm -rf k b root && mkdir -p k b
  dpkg-deb -x "$kdeb" k
  dpkg-deb -x "$bdeb" b
  cp k/boot/vmlinuz-* bzImage
  mkdir -p root/bin root/proc root/sys root/dev root/tmp root/etc root/mnt
  cp b/bin/busybox root/bin/busybox
  kmods=$(echo k/lib/modules/*)
  mkdir -p root/lib/modules
  python3 "$here/modules.py" "$kmods" crc32c_generic virtio_pci virtio_blk ext4 > root/lib/modules/disk.order
  while read -r m; do cp "$kmods/$m" root/lib/modules/; done < root/lib/modules/disk.order
  sed -i 's|.*/||' root/lib/modules/disk.order
  for a in sh mount echo cat uname dd printf sleep ls setsid cttyhack mkdir rm touch sync expr seq; do
    ln -sf busybox "root/bin/$a"
  done
  cat > root/init <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "uCheckpoint initramfs: Linux $(uname -r), busybox $(busybox | head -1 | cut -d' ' -f2)"
# A virtio device on the PCI bus: load the disk drivers (no modules.dep, so in the computed order).
if grep -qx 0x1af4 /sys/bus/pci/devices/*/vendor 2>/dev/null; then
  while read -r m; do insmod "/lib/modules/$m" || echo "init: insmod $m failed"; done < /lib/modules/disk.order
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
  [ -b /dev/vda ] && echo "init: disk drivers loaded: $(ls /sys/block | grep vd | tr '\n' ' ')"
fi
vmm_exit() {
  # isa-debug-exit at port 0xF4: the VMM (or QEMU) ends with this status
  printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo "could not write to /dev/port"; while true; do sleep 3600; done
}
if [ -n "$vmmcmd" ]; then
  sh -c "$vmmcmd"
  vmm_exit $?
fi
echo "Type 'exit' to end the VM."
setsid cttyhack sh
vmm_exit 0
INIT
  chmod +x root/init
  python3 "$here/newc.py" root | gzip -9 -n > initramfs.gz
  echo "$stamp" > built.stamp
fi
# The overhead suite's initramfs of real Debian programs, beside it (its own cache and stamp).
VMM_LINUX_CACHE="$cache" "$here/programs.sh" >/dev/null || echo "build.sh: the programs initramfs (programs.sh) was not built" >&2
echo "$cache/bzImage"
echo "$cache/initramfs.gz"

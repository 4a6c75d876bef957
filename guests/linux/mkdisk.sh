#!/usr/bin/env bash
# Makes an ext4 disk image for the Linux guest (vmm run --drive IMAGE) from the files in a
# directory, with Debian's e2fsprogs (mke2fs -d). The same directory gives the same image bytes:
# the UUID, the directory hash seed and the time stamps are fixed.
# Usage: guests/linux/mkdisk.sh DIR IMAGE [SIZE]      (SIZE as mke2fs takes it, default 32M)
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
[ $# -ge 2 ] || { echo "usage: $0 DIR IMAGE [SIZE]" >&2; exit 2; }
dir=$1 image=$2 size=${3:-32M}
command -v mke2fs >/dev/null || { echo "mkdisk.sh: mke2fs is needed (Debian package e2fsprogs)" >&2; exit 1; }
[ -d "$dir" ] || { echo "mkdisk.sh: $dir is not a directory" >&2; exit 2; }
rm -f "$image"
truncate -s "$size" "$image"
E2FSPROGS_FAKE_TIME=1767225600 mke2fs -q -F -t ext4 -d "$dir" -L vmmdisk \
  -U 6d6d6d6d-7563-6b70-7400-000000000001 -E hash_seed=6d6d6d6d-7563-6b70-7400-000000000002,root_owner=0:0 \
  "$image" "$size"

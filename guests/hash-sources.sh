#!/bin/sh
# Prints the sources hash of the guests (see README.md, "Sources hash"):
# SHA-256 over, for every file under guests/ named *.c, *.h, *.S, *.ld or
# Makefile (except under the top-level directories build/ expected/ host/
# obj/ linux/), in byte-wise sorted order of its path relative to guests/,
#   relpath "\n" content "\n"
# followed by
#   "flags\n" GUEST_CFLAGS "\n".
# Usage: hash-sources.sh [GUEST_CFLAGS]   (default: asked from the Makefile)
set -eu
cd "$(dirname "$0")"
if [ $# -ge 1 ]; then
    flags=$1
else
    flags=$(make -s --no-print-directory print-cflags)
fi
export LC_ALL=C
find . \( -path ./build -o -path ./expected -o -path ./host -o -path ./obj -o -path ./linux \) -prune \
       -o -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name '*.ld' -o -name Makefile \) -print \
  | sed 's|^\./||' | sort | {
    while IFS= read -r f; do
        printf '%s\n' "$f"
        cat "$f"
        printf '\n'
    done
    printf 'flags\n%s\n' "$flags"
  } | sha256sum | cut -d' ' -f1

#!/usr/bin/env python3
"""Writes a directory tree as a cpio archive in the "newc" format the Linux kernel unpacks as an
initramfs, to standard output: files, directories and symbolic links, owned by root, sorted, with
fixed times (so the same tree gives the same bytes). Usage: newc.py DIR > archive.cpio"""
import os, stat, sys

def header(ino, mode, nlink, size, namesize):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)

def pad(n):
    return b"\0" * ((4 - n % 4) % 4)

def main(root):
    out = sys.stdout.buffer
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            entries.append(os.path.join(dirpath, name))
    entries.sort()
    ino = 1
    for path in entries:
        rel = os.path.relpath(path, root).encode()
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            data = os.readlink(path).encode()
            mode = stat.S_IFLNK | 0o777
        elif stat.S_ISDIR(st.st_mode):
            data = b""
            mode = stat.S_IFDIR | 0o755
        else:
            data = open(path, "rb").read()
            mode = stat.S_IFREG | (0o755 if st.st_mode & 0o111 else 0o644)
        name = rel + b"\0"
        h = header(ino, mode, 2 if stat.S_ISDIR(st.st_mode) else 1, len(data), len(name))
        out.write(h + name + pad(len(h) + len(name)) + data + pad(len(data)))
        ino += 1
    name = b"TRAILER!!!\0"
    h = header(0, 0, 1, 0, len(name))
    out.write(h + name + pad(len(h) + len(name)))

if __name__ == "__main__":
    main(sys.argv[1])

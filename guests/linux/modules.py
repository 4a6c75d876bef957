#!/usr/bin/env python3
"""Resolves kernel modules and their dependencies in load order, from the modules' own .modinfo
sections (the kernel package has no modules.dep for busybox's insmod to use, and modprobe needs
one). Usage: modules.py MODULE_DIR NAME... ; prints one path per line, relative to MODULE_DIR,
every module after the modules it depends on."""
import os, re, sys

def index(root):
    found = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".ko"):
                found[f[:-3].replace("-", "_")] = os.path.relpath(os.path.join(dirpath, f), root)
    return found

def depends(path):
    with open(path, "rb") as f:
        m = re.search(rb"(?:^|\x00)depends=([^\x00]*)", f.read())
    return [d.replace("-", "_") for d in m.group(1).decode().split(",") if d] if m else []

def main(root, names):
    mods = index(root)
    order, state = [], {}
    def visit(n):
        if state.get(n) == "done":
            return
        if state.get(n) == "visiting":
            sys.exit("modules.py: dependency cycle at " + n)
        if n not in mods:
            sys.exit("modules.py: no module " + n + " under " + root)
        state[n] = "visiting"
        for d in depends(os.path.join(root, mods[n])):
            visit(d)
        state[n] = "done"
        order.append(mods[n])
    for n in names:
        visit(n.replace("-", "_"))
    print("\n".join(order))

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])

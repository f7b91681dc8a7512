#!/usr/bin/env python3
"""sass-loops.py -- the loops of a CUDA kernel's SASS that hold tensor-core instructions (HGMMA),
with their static instruction counts by opcode: how many instructions a key tile costs, without a GPU.

    scripts/sass-loops.py OBJECT_OR_SASS NAME_PART [NAME_PART ...] [--min-hgmma N]

OBJECT_OR_SASS is an object file from nvcc (its SASS is dumped with cuobjdump -sass, which needs
nvdisasm on PATH; neither ships with the nvcc of this machine: `pip download --no-deps
nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm` and unzip the wheels' bin folders) or a saved dump.
The first function whose mangled name contains every NAME_PART is read; each backward branch
whose body holds at least --min-hgmma (default 4) HGMMA instructions is printed as a loop.
Counts are static: a loop's branches that a tile does not take (the mask, the rescale) count too.
"""
import re
import subprocess
import sys


def sass_text(path):
    if path.endswith(".sass") or path.endswith(".txt"):
        with open(path) as f:
            return f.read()
    return subprocess.run(["cuobjdump", "-sass", path], check=True, capture_output=True, text=True).stdout


def opcode(ins):
    t = ins.split()
    if t[0].startswith("@"):
        t = t[1:]
    return t[0]


def loops(text, parts, min_hgmma=4):
    for fn in text.split("Function : ")[1:]:
        name = fn.split("\n", 1)[0].strip()
        if not all(p in name for p in parts):
            continue
        order = [(int(m.group(1), 16), m.group(2).strip())
                 for m in re.finditer(r"/\*([0-9a-f]{4,})\*/\s+([^;]*?)\s*;", fn)]
        at = {a: k for k, (a, _) in enumerate(order)}
        found = []
        for k, (a, ins) in enumerate(order):
            m = re.search(r"BRA\s+0x([0-9a-f]+)", ins)
            if not m or int(m.group(1), 16) >= a or int(m.group(1), 16) not in at:
                continue
            body = [x for _, x in order[at[int(m.group(1), 16)]:k + 1]]
            if sum("HGMMA" in x for x in body) < min_hgmma:
                continue
            counts = {}
            for x in body:
                o = opcode(x).split(".")[0]
                counts[o] = counts.get(o, 0) + 1
            found.append((int(m.group(1), 16), a, len(body), sorted(set(opcode(x) for x in body if "HGMMA" in x)), counts))
        return name, len(order), found
    return None, 0, []


def main(argv):
    min_hgmma = 4
    if "--min-hgmma" in argv:
        i = argv.index("--min-hgmma")
        min_hgmma = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    name, n, found = loops(sass_text(argv[1]), argv[2:], min_hgmma)
    if name is None:
        sys.stderr.write("sass-loops: no function matches %s\n" % " ".join(argv[2:]))
        return 1
    print("%s: %d instructions" % (name, n))
    for lo, hi, size, hg, counts in found:
        top = ", ".join("%s %d" % kv for kv in sorted(counts.items(), key=lambda kv: -kv[1])[:12])
        print("loop %#x-%#x: %d instructions (%s)\n  %s" % (lo, hi, size, ", ".join(hg), top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""sass-diff.py -- which kernels two builds of one CUDA source compiled differently: every function
of OLD's SASS against NEW's, by name, with the file-specific part of anonymous-namespace names
removed (so that the same file compiled from two folders compares), immediates and addresses
ignored. Before spending GPU time on a patch, it shows whether the kernels the patch does not mean
to touch came out SASS-identical (run 30: two struct fields added before others shifted their
offsets, and every kernel taking the struct compiled differently).

    scripts/sass-diff.py OLD NEW [--rename REGEX=REPLACEMENT ...] [--all]

OLD and NEW are object files from nvcc (dumped with cuobjdump -sass, which needs nvdisasm on PATH;
see scripts/sass-loops.py) or saved dumps (.sass / .txt). --rename rewrites NEW's names before
matching (e.g. a template flag the patch appended: --rename 'Lb0EEEv=EEv'); functions of NEW that
still match none of OLD's are listed as added. Prints, per function of OLD: identical, or the
instructions that differ (the larger side of each changed run) and the size of each; then the
counts. --all lists the identical ones too. Exit status: 0 when every function of OLD has an
identical counterpart in NEW, 1 otherwise, 2 on bad usage.
"""
import difflib
import re
import subprocess
import sys

ANON = re.compile(r"_GLOBAL__N__[0-9a-f]+_\d+_[A-Za-z0-9_]+?_cu_[0-9a-f]{8}")
INS = re.compile(r"/\*([0-9a-f]{4,})\*/\s+([^;]*?)\s*;")
IMM = re.compile(r"0x[0-9a-f]+")


def sass_text(path):
    if path.endswith(".sass") or path.endswith(".txt"):
        with open(path) as f:
            return f.read()
    return subprocess.run(["cuobjdump", "-sass", path], check=True, capture_output=True, text=True).stdout


def functions(text, renames=()):
    """{normalized name: [normalized instruction, ...]} of a SASS dump"""
    out = {}
    for fn in text.split("Function : ")[1:]:
        name = ANON.sub("NS", fn.split("\n", 1)[0].strip())
        for pat, rep in renames:
            name = re.sub(pat, rep, name)
        out[name] = [IMM.sub("X", m.group(2)) for m in INS.finditer(fn)]
    return out


def differing(a, b):
    """instructions in the changed runs between a and b (the larger side of each run)"""
    if a == b:
        return 0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")


def compare(old, new):
    """(rows, added): rows of (name, len old, len new or None, differing or None) for every
    function of old, and the names only new has"""
    rows = []
    for name in sorted(old):
        if name in new:
            rows.append((name, len(old[name]), len(new[name]), differing(old[name], new[name])))
        else:
            rows.append((name, len(old[name]), None, None))
    return rows, sorted(set(new) - set(old))


def main(argv):
    args, renames, show_all = [], [], False
    i = 1
    while i < len(argv):
        if argv[i] == "--rename" and i + 1 < len(argv) and "=" in argv[i + 1]:
            renames.append(tuple(argv[i + 1].split("=", 1)))
            i += 2
        elif argv[i] == "--all":
            show_all = True
            i += 1
        elif argv[i].startswith("--"):
            sys.stderr.write(__doc__)
            return 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    old = functions(sass_text(args[0]))
    new = functions(sass_text(args[1]), renames)
    rows, added = compare(old, new)
    same = 0
    for name, n_old, n_new, d in rows:
        if n_new is None:
            print("missing in new: %s (%d instructions)" % (name, n_old))
        elif d:
            print("differs: %s: %d -> %d instructions, %d differing" % (name, n_old, n_new, d))
        else:
            same += 1
            if show_all:
                print("identical: %s (%d instructions)" % (name, n_old))
    for name in added:
        print("added in new: %s (%d instructions)" % (name, len(new[name])))
    print("%d of %d functions identical, %d added" % (same, len(rows), len(added)))
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

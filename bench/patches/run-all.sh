#!/usr/bin/env bash
# run-all.sh -- every waiting patch's A/B in one call of the GPU machine (no git needed there).
#
#   bash bench/patches/run-all.sh [PATCH ...]      (from the repository root; default: every *.patch here)
#
# Copies the tree (without build folders) to build-p, applies the patches there in the order
# given (patch -p1), and runs each patch's own scripts (every bench/*_ab.sh its diff adds, in the
# diff's order) inside build-p in turn; each script builds build-p/build-gpu itself (the second
# build is a no-op).
# Output: the scripts' output on stdout and under $OUT/patches/ (one log per script).
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/patches-out}
mkdir -p "$OUT/patches"
if [ $# -eq 0 ]; then set -- bench/patches/*.patch; fi
rm -rf build-p && mkdir build-p
tar --exclude='./build*' --exclude='./.git' -cf - . | tar -x -C build-p
scripts=()
# GNU patch where there is one; else git apply, which outside a repository (the GPU machine's
# copy has no .git) applies relative to the current folder
apply() {
  if command -v patch >/dev/null; then patch -p1 -s --dry-run < "../$1" >/dev/null && patch -p1 -s < "../$1"
  else git apply "../$1"; fi
}
for p in "$@"; do
  if ! (cd build-p && apply "$p"); then
    echo "run-all: $p does not apply; stopping" >&2
    exit 1
  fi
  # the A/B scripts the patch adds: its "+++ b/bench/..._ab.sh" lines, in the diff's order
  ss=$(grep -E '^\+\+\+ b/bench/[A-Za-z0-9_]+_ab\.sh$' "$p" | sed 's|^+++ b/||')
  for s in $ss; do scripts+=("$s"); done
  echo "applied $p${ss:+ (scripts: $(echo $ss))}"
done
status=0
for s in "${scripts[@]}"; do
  name=$(basename "$s" .sh)
  echo "== $s"
  (cd build-p && bash "$s") 2>&1 | tee "$OUT/patches/$name.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
done
exit $status

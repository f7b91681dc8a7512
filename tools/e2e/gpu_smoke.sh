#!/bin/sh
# GPU smoke test of the graphattn command (run by hand on a CUDA machine, from the repo root):
# builds with CUDA, checks every graph kind in f32/bf16/f16 on the device, checks N = 2^24,
# benchmarks a window, compares `run` on the device with the fp64 reference, then runs the CLI's
# CTest cases. Files (build logs, bench CSV/SVG) go to $OUT (default build-gpu/smoke).
OUT=${OUT:-build-gpu/smoke}
mkdir -p "$OUT"
cmake -S . -B build-gpu -DGRAPHATTN_CUDA=ON > "$OUT/cfg.log" 2>&1 || { tail -30 "$OUT/cfg.log"; exit 1; }
cmake --build build-gpu --target graphattn_cmd ga_e2e -j16 > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head -30; exit 1; }
R=$(pwd)
G=$R/build-gpu/tools/graphattn
E=$R/build-gpu/tools/ga_e2e
$G info
for g in window:256 "window:128+global:0,1,2,3" causal dense "bigbird:64,1,1,2,7" "dilated:16,4+random:8,3" longnet:64,4,1; do
  for t in f32 bf16 f16; do
    $G check --graph "$g" --n 4099 --heads 4 --kv-heads 2 --dim 64 --dtype $t --device cuda --rows 32 | grep -E "^check|max|non-finite|PASS|FAIL"
  done
done
$G check --graph window:256 --n 2^24 --dim 64 --dtype bf16 --device cuda --rows 64
$G bench --graph window:256 --n 2^16,2^20,2^22,2^24 --dtype bf16 --device cuda --repeats 5 --csv "$OUT/bench.csv" --svg "$OUT/bench.svg"
W=$(mktemp -d) && cd "$W" || exit 1
$E gen q.npy f32 1 1 8192,8,64 && $E gen k.npy f32 1 2 8192,2,64 && $E gen v.npy f32 1 3 8192,2,64
$G run --graph window:128+global:0 --q q.npy --k k.npy --v v.npy --out o.npy --lse l.npy --dtype bf16 --device cuda
$G run --graph window:128+global:0 --q q.npy --k k.npy --v v.npy --out r.npy --lse rl.npy --dtype bf16 --backend reference
$E compare o.npy r.npy 1e-2 && $E compare l.npy rl.npy 1e-3
cd "$R" && rm -rf "$W"
cd build-gpu && ctest -R '^cli\.' -j8 2>&1 | tail -5

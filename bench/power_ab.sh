#!/usr/bin/env bash
# Is the long-running window kernel power- or clock-bound? For each case, the C tool's time per
# call with the tensor-core row sums on and off (GRAPHATTN_WS_ROWSUM), alternating, and the SM
# clock, power draw and clock-event reasons that nvidia-smi sampled while the card was busy
# (samples above BUSY_W watts; median). Run on the GPU machine after building build-gpu.
B=${B:-build-gpu/tools/graphattn}
BUSY_W=${BUSY_W:-250}
q=clocks.sm,power.draw,clocks_event_reasons.active
nvidia-smi --query-gpu=$q --format=csv,noheader,nounits >/dev/null 2>&1 || q=clocks.sm,power.draw,clocks_throttle_reasons.active
nvidia-smi --query-gpu=power.limit,clocks.max.sm --format=csv
one() { # label env... -- bench args
  local label=$1; shift
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  nvidia-smi --query-gpu=$q --format=csv,noheader,nounits -lms 50 > /tmp/smi.log 2>/dev/null &
  local pid=$!
  local ms; ms=$(timeout 120 env "${envs[@]}" $B bench "$@" 2>/dev/null | tail -1 | awk '{print $3}')
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  python3 - "$label" "$ms" "$BUSY_W" <<'PY'
import sys, statistics
label, ms, busy = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = []
for line in open("/tmp/smi.log"):
    p = [x.strip() for x in line.split(",")]
    try: rows.append((float(p[0]), float(p[1]), p[2]))
    except (ValueError, IndexError): pass
b = [r for r in rows if r[1] > busy]
if b:
    reasons = {}
    for r in b: reasons[r[2]] = reasons.get(r[2], 0) + 1
    top = ",".join("%s:%d" % kv for kv in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    print("%-34s %9s ms  sm %5.0f MHz  %5.0f W  (%d busy samples; reasons %s)" % (label, ms,
          statistics.median(r[0] for r in b), statistics.median(r[1] for r in b), len(b), top))
else:
    print("%-34s %9s ms  (no busy samples)" % (label, ms))
PY
}
for rep in 1 2; do
  for rsum in 1 0; do
    one "H1 2^22 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^22 --dtype bf16 --device cuda --repeats 200
    [ $rep = 1 ] && one "H16 2^22 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^22 --heads 16 --dtype bf16 --device cuda --repeats 20
    one "H1 2^24 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^24 --dtype bf16 --device cuda --repeats 60
  done
done

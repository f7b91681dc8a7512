# bench/ab_lib.sh -- sourced by the one-call A/B scripts (bench/*_ab.sh) that time the C tool.
# ab_bench LABEL ARGS...: `$G bench ARGS --device cuda` (G: the graphattn tool), its result rows
# alone, each prefixed with LABEL; 60 s at most.
ab_bench() {
  local l=$1; shift
  timeout 60 "$G" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"
}

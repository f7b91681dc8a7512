#!/bin/sh
# End-to-end tests of the graphattn command, one case per CTest test:
#   sh e2e.sh PATH/TO/graphattn PATH/TO/ga_e2e WORKDIR CASE
# Each case runs in WORKDIR/CASE (removed when the case passes). Inputs come from ga_e2e (the
# same seeded generator `check` uses), so neither Python nor NumPy is needed.
set -u
GA=$1
H=$2
BASE=$3
CASE=$4
W="$BASE/$CASE"
rm -rf "$W"
mkdir -p "$W" || exit 1
cd "$W" || exit 1

fail() {
    echo "FAIL $CASE: $*" >&2
    exit 1
}
# expect STATUS CMD...: run CMD (stdout to out.txt, stderr to err.txt), fail unless it exits STATUS
expect() {
    want=$1
    shift
    "$@" >out.txt 2>err.txt
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout" >&2; cat out.txt >&2; echo "--- stderr" >&2; cat err.txt >&2
        fail "'$*' exited $got, want $want"
    fi
}
# has FILE TEXT: FILE contains TEXT (fixed string)
has() {
    grep -qF -- "$2" "$1" || { echo "--- $1" >&2; cat "$1" >&2; fail "$1 lacks '$2'"; }
}
absent() {
    for f in "$@"; do [ ! -e "$f" ] || fail "$f was written"; done
    for f in *.tmp.*; do [ ! -e "$f" ] || fail "temporary file $f was left behind"; done
}
# lacks FILE TEXT: FILE does not contain TEXT
lacks() {
    ! grep -qF -- "$2" "$1" || { echo "--- $1" >&2; cat "$1" >&2; fail "$1 has '$2'"; }
}
# skip WHY: the case does not apply here (CTest reports it skipped)
skip() {
    echo "SKIP $CASE: $*"
    cd "$BASE" && rm -rf "$W"
    exit 77
}
# value KEY: the value of "KEY: value" in out.txt
value() { sed -n "s/^$1: //p" out.txt; }

gen_qkv() { # gen_qkv DTYPE SEED QSHAPE KVSHAPE
    expect 0 "$H" gen q.npy "$1" "$2" 1 "$3"
    expect 0 "$H" gen k.npy "$1" "$2" 2 "$4"
    expect 0 "$H" gen v.npy "$1" "$2" 3 "$4"
}

case_help_on_every_subcommand() {
    for c in run check bench show export info; do
        expect 0 "$GA" "$c" --help
        has out.txt "usage: graphattn $c"
        has out.txt "example"
        [ "$c" = info ] || has out.txt "Graph specs (SPEC"  # the grammar --graph SPEC refers to
    done
    expect 0 "$GA" --help
    has out.txt "commands:"
    expect 0 "$GA" help check
    has out.txt "usage: graphattn check"
    expect 2 "$GA" help nosuch
    has err.txt "unknown command 'nosuch'"
}

case_usage_errors_exit_with_status_2() {
    expect 2 "$GA"
    expect 2 "$GA" frobnicate
    has err.txt "unknown command 'frobnicate'"
    expect 2 "$GA" run --graph dense --q q.npy
    has err.txt "required"
    expect 2 "$GA" check --graph dense --n abc
    has err.txt "'abc' is not an integer"
    expect 2 "$GA" check --graph dense --n 10 --bogus 1
    has err.txt "unknown option '--bogus'"
    expect 2 "$GA" check --graph dense --n 10 --dtype f8
    expect 2 "$GA" check --graph dense --n 10 --device tpu
    expect 2 "$GA" run --graph dense --q a --k b --v c --out o.npy --device cuda --backend reference
    absent o.npy
    # an option with a value given twice, or an empty value: refused, not the last one taken
    expect 2 "$GA" check --graph window:16 --graph causal --n 100
    has err.txt "option --graph is given twice"
    expect 2 "$GA" run --graph dense --q a --k b --v c --out x.npy --out=y.npy
    has err.txt "option --out is given twice"
    absent x.npy
    absent y.npy
    expect 2 "$GA" run --graph dense --q a --k b --v c --out ""
    has err.txt "option --out has an empty value"
    expect 0 "$GA" export --graph window:2 --n 8 --csr p.npy,i.npy --quiet --quiet
    expect 2 "$GA" show --graph window:2 --n 8 --budget 0
    has err.txt "--budget must be at least 1 edge"
    expect 2 "$GA" run --graph dense --q a --k b --v c --out o.npy --bf16-bits --dtype f16
    has err.txt "--bf16-bits and --dtype f16 conflict"
    absent o.npy
}

case_info_reports_version_and_backends() {
    expect 0 "$GA" info
    has out.txt "graphattn 0."
    has out.txt "backends compiled: "
    has out.txt "CUDA devices: "
    expect 0 "$GA" --version
}

case_run_matches_reference_backend() {
    gen_qkv f32 11 64,4,16 64,2,16
    g="window:5+global:0,63+random:3,7"
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    has out.txt "wrote o.npy float32 (64, 4, 16)"
    expect 0 "$H" desc lse.npy
    has out.txt "float32 (64, 4)"
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out ref.npy --lse ref_lse.npy --backend reference
    expect 0 "$H" compare o.npy ref.npy 1e-4
    expect 0 "$H" compare lse.npy ref_lse.npy 1e-4
    # an explicit scale changes the result, and still matches the reference
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out o2.npy --scale 0.5 --device cpu
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out ref2.npy --scale 0.5 --backend reference
    expect 0 "$H" compare o2.npy ref2.npy 1e-4
    expect 1 "$H" compare o2.npy o.npy 1e-3
}

case_run_batched_float16() {
    gen_qkv f16 12 2,50,4,8 2,70,1,8
    g="causal+window:3"
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    expect 0 "$H" desc o.npy
    has out.txt "float16 (2, 50, 4, 8)"
    expect 0 "$H" desc lse.npy
    has out.txt "float32 (2, 50, 4)"
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out ref.npy --lse ref_lse.npy --backend reference
    expect 0 "$H" compare o.npy ref.npy 1e-2
    expect 0 "$H" compare lse.npy ref_lse.npy 1e-2
}

case_run_dtype_bf16_writes_float32() {
    gen_qkv f32 13 40,2,32 40,2,32
    expect 0 "$GA" run --graph window:4 --q q.npy --k k.npy --v v.npy --out o.npy --dtype bf16 --device cpu
    expect 0 "$H" desc o.npy
    has out.txt "float32 (40, 2, 32)"
    expect 0 "$GA" run --graph window:4 --q q.npy --k k.npy --v v.npy --out ref.npy --dtype bf16 --backend reference
    expect 0 "$H" compare o.npy ref.npy 1e-2
    # bf16 rounding of the inputs is visible against the float32 computation
    expect 0 "$GA" run --graph window:4 --q q.npy --k k.npy --v v.npy --out f32.npy --backend reference
    expect 1 "$H" compare o.npy f32.npy 1e-5
    expect 0 "$H" compare o.npy f32.npy 5e-2
}

case_run_bf16_bits_round_trip() {
    gen_qkv bf16bits 14 30,2,16 30,2,16
    expect 1 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy
    has err.txt "--bf16-bits"
    absent o.npy
    expect 0 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --bf16-bits --device cpu
    expect 0 "$H" desc o.npy
    has out.txt "uint16 (30, 2, 16)"
    expect 0 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out ref.npy --bf16-bits --backend reference
    expect 0 "$H" compare o.npy ref.npy 1e-2
}

case_run_and_check_agree_on_the_same_problem() {
    # ga_e2e gen draws the same seeded values as check (streams 1, 2, 3 for q, k, v), so run on
    # these files is the problem check solves internally
    g="window:6+global:3+random:2,5"
    gen_qkv f32 21 77,2,24 77,2,24
    expect 0 "$GA" check --graph "$g" --n 77 --heads 2 --dim 24 --seed 21 --device cpu --rows 77
    has out.txt "PASS"
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out ref.npy --lse ref_lse.npy --backend reference
    expect 0 "$H" compare o.npy ref.npy 1e-4
    expect 0 "$H" compare lse.npy ref_lse.npy 1e-4
}

case_run_on_exported_csr_matches_implicit_graph() {
    g="window:3+global:5"
    expect 0 "$GA" export --graph "$g" --n 40 --csr ptr.npy,idx.npy
    gen_qkv f32 15 40,2,8 40,2,8
    expect 0 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out a.npy --lse a_lse.npy --device cpu
    expect 0 "$GA" run --graph csr:ptr.npy,idx.npy --q q.npy --k k.npy --v v.npy --out b.npy --lse b_lse.npy --device cpu
    expect 0 "$H" compare a.npy b.npy 1e-5
    expect 0 "$H" compare a_lse.npy b_lse.npy 1e-5
    # an explicit graph fixes N: other sizes are rejected and nothing is written
    gen_qkv f32 15 41,2,8 41,2,8
    expect 1 "$GA" run --graph csr:ptr.npy,idx.npy --q q.npy --k k.npy --v v.npy --out c.npy --device cpu
    has err.txt "GA_ERR_GRAPH_MISMATCH"
    absent c.npy
}

case_export_round_trip_preserves_graph() {
    for g in "window:3" "causal+global:0,9" "dilated:3,4" "blocks:16" "longnet:16,2,1" "random:5,3" \
             "bigbird:8,1,1,1,9" "window:4,0+random:2,1"; do
        expect 0 "$GA" show --graph "$g" --n 100
        e1=$(value edges)
        expect 0 "$GA" export --graph "$g" --n 100 --csr p.npy,i.npy
        expect 0 "$H" desc p.npy
        has out.txt "int64 (101,)"
        expect 0 "$H" desc i.npy
        has out.txt "int64 ($e1,)"
        expect 0 "$GA" show --graph csr:p.npy,i.npy --n 100
        e2=$(value edges)
        [ "$e1" = "$e2" ] || fail "$g: $e1 edges, csr copy has $e2"
        expect 0 "$GA" export --graph csr:p.npy,i.npy --n 100 --csr p2.npy,i2.npy --index int32
        expect 0 "$H" desc i2.npy
        has out.txt "int32 ($e1,)"
        expect 0 "$GA" export --graph csr:p2.npy,i2.npy --n 100 --csr p3.npy,i3.npy
        cmp -s p.npy p3.npy || fail "$g: row offsets differ after a round trip"
        cmp -s i.npy i3.npy || fail "$g: column indices differ after a round trip"
    done
    # int32 indices at the largest Nk they address (2^31: the last key is 2^31 - 1), read back
    expect 0 "$GA" export --graph window:1 --n 5 --nk 2^31 --csr p.npy,i.npy --index int32
    expect 0 "$GA" show --graph "csr: p.npy , i.npy" --n 5 --nk 2^31
    [ "$(value edges)" = 14 ] || fail "int32 csr over 2^31 keys: $(value edges) edges, want 14"
}

case_bad_spec_fails_and_writes_nothing() {
    gen_qkv f32 16 20,1,8 20,1,8
    for g in "window:" "windoe:3" "window:3+" "window:3,4,5" "dilated:2,0" "global:" "csr:missing.npy,idx.npy"; do
        expect 1 "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy
        has err.txt "graphattn run: error: bad --graph"
        has err.txt "GA_ERR_"
        absent o.npy lse.npy
    done
    expect 1 "$GA" run --graph "windoe:3" --q q.npy --k k.npy --v v.npy --out o.npy
    has err.txt "GA_ERR_SPEC_SYNTAX"
    has err.txt "windoe"
    expect 1 "$GA" export --graph "window:3+bogus" --n 10 --csr p.npy,i.npy
    absent p.npy i.npy
}

case_malformed_npy_fails_and_writes_nothing() {
    gen_qkv f32 17 4,2,8 4,2,8
    for kind in badmagic truncated fortran int64 trailing bigheader; do
        expect 0 "$H" bad "$kind" bad.npy
        expect 1 "$GA" run --graph window:1 --q bad.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
        has err.txt "--q"
        has err.txt "bad.npy"
        [ "$kind" = int64 ] || has err.txt "GA_ERR_FILE_FORMAT"
        absent o.npy lse.npy
        expect 1 "$GA" run --graph window:1 --q q.npy --k k.npy --v bad.npy --out o.npy --device cpu
        absent o.npy
    done
    expect 0 "$H" bad fortran bad.npy
    expect 1 "$GA" run --graph window:1 --q bad.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "fortran_order"
    expect 1 "$GA" run --graph window:1 --q nothere.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "GA_ERR_IO"
    absent o.npy
}

case_shape_mismatch_fails_and_writes_nothing() {
    expect 0 "$H" gen q.npy f32 1 1 10,2,8
    expect 0 "$H" gen k.npy f32 1 2 10,3,8
    expect 0 "$H" gen v.npy f32 1 3 10,3,8
    expect 1 "$GA" run --graph dense --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    has err.txt "GA_ERR_SHAPE_MISMATCH"
    absent o.npy lse.npy
    expect 0 "$H" gen v.npy f32 1 3 9,3,8
    expect 1 "$GA" run --graph dense --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    absent o.npy
    expect 0 "$H" gen v.npy f16 1 3 10,3,8
    expect 1 "$GA" run --graph dense --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "one dtype"
    absent o.npy
}

# explicit graphs from files: each malformed class fails with its own status and writes nothing
bad_graph() { # bad_graph KIND STATUS PTRTYPE PTR IDXTYPE IDX (KIND csr or coo; "-" is an empty array)
    expect 0 "$H" ints a.npy "$3" "$4"
    expect 0 "$H" ints b.npy "$5" "$6"
    expect 1 "$GA" run --graph "window:1+$1:a.npy,b.npy" --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    has err.txt "--graph 'window:1+$1:a.npy,b.npy'"
    has err.txt "$2"
    absent o.npy lse.npy
}

case_run_rejects_kv_batch_or_head_dim_unlike_q() {
    # K and V must have Q's batch size and head dimension; only N and the head count may differ
    expect 0 "$H" gen q.npy f32 1 1 64,4,16
    expect 0 "$H" gen k.npy f32 1 2 64,2,8
    expect 0 "$H" gen v.npy f32 1 3 64,2,8
    expect 1 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    has err.txt "K and V (64, 2, 8) do not fit Q (64, 4, 16)"
    absent o.npy lse.npy
    expect 0 "$H" gen q.npy f32 1 1 4,64,4,16
    expect 0 "$H" gen k.npy f32 1 2 1,64,2,16
    expect 0 "$H" gen v.npy f32 1 3 1,64,2,16
    expect 1 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "K and V (1, 64, 2, 16) do not fit Q (4, 64, 4, 16)"
    has err.txt "batch size (4)"
    absent o.npy
    # what may differ still runs: Nk != Nq and fewer kv heads
    expect 0 "$H" gen k.npy f32 1 2 4,80,2,16
    expect 0 "$H" gen v.npy f32 1 3 4,80,2,16
    expect 0 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    has out.txt "wrote o.npy float32 (4, 64, 4, 16)"
}

# read_pipe: the contents of the FIFO ./pipe (given up after a minute if no writer comes)
read_pipe() {
    if command -v timeout >/dev/null 2>&1; then timeout 60 cat pipe; else cat pipe; fi
}

case_outputs_write_through_links_and_never_replace_devices_or_fifos() {
    gen_qkv f32 30 32,2,8 32,2,8
    g=window:2
    # a symbolic link is written through: the link stays, the file it points to is replaced
    mkdir real sub
    echo old >real/o.npy
    ln -s real/o.npy link.npy
    ln -s ../real/lse.npy sub/lse_link.npy
    expect 0 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out link.npy --lse sub/lse_link.npy --device cpu
    [ -L link.npy ] || fail "link.npy is no longer a symbolic link"
    [ -L sub/lse_link.npy ] || fail "sub/lse_link.npy is no longer a symbolic link"
    expect 0 "$H" desc real/o.npy
    has out.txt "float32 (32, 2, 8)"
    expect 0 "$H" desc real/lse.npy
    has out.txt "float32 (32, 2)"
    absent
    for f in real/*.tmp.*; do [ ! -e "$f" ] || fail "temporary file $f was left behind"; done
    ln -s ../real/s.svg sub/s_link.svg
    expect 0 "$GA" show --graph $g --n 32 --svg sub/s_link.svg
    [ -L sub/s_link.svg ] || fail "sub/s_link.svg is no longer a symbolic link"
    has real/s.svg "</svg>"
    # standard output as an output: the data alone goes there, the report to stderr (a .npy with
    # the summary line after it would be refused for its trailing bytes)
    expect 0 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out /dev/stdout --device cpu
    mv out.txt stdout.npy
    has err.txt "wrote /dev/stdout float32 (32, 2, 8)"
    expect 0 "$H" desc stdout.npy
    has out.txt "float32 (32, 2, 8)"
    expect 0 "$GA" show --graph $g --n 32 --svg /dev/stdout
    has out.txt "</svg>"
    lacks out.txt "edges:"
    has err.txt "edges: "
    # a link to a file not there yet is followed too (as a shell's '>' does); one into a missing
    # directory fails, naming both, and creates nothing
    ln -s real/new.npy new_link.npy
    expect 0 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out new_link.npy --device cpu
    [ -L new_link.npy ] || fail "new_link.npy is no longer a symbolic link"
    expect 0 "$H" desc real/new.npy
    ln -s missing/o.npy dangling.npy
    expect 1 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out dangling.npy --device cpu
    has err.txt "cannot write 'dangling.npy' (a symbolic link to 'missing/o.npy'): No such file or directory"
    absent missing
    # a FIFO is written in place (a reader gets the .npy), never replaced by a regular file
    mkfifo pipe || skip "mkfifo failed"
    read_pipe >from_pipe.npy &
    expect 0 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out pipe --lse lse.npy --device cpu
    wait
    [ -p pipe ] || fail "the FIFO was replaced"
    expect 0 "$H" desc from_pipe.npy
    has out.txt "float32 (32, 2, 8)"
    read_pipe >from_pipe.csv &
    expect 0 "$GA" bench --graph $g --n 64 --repeats 1 --warmup 0 --device cpu --csv pipe --quiet
    wait
    [ -p pipe ] || fail "the FIFO was replaced by bench --csv"
    has from_pipe.csv "graph,n,nk"
    # a character device (a null device made here, never the real /dev/null) is written in place
    if mknod null_dev c 1 3 2>/dev/null; then
        expect 0 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out null_dev --lse null_dev --device cpu
        [ -c null_dev ] || fail "the device file was replaced"
        expect 0 "$GA" export --graph $g --n 32 --csr null_dev,null_dev
        [ -c null_dev ] || fail "the device file was replaced by export"
        expect 0 "$GA" bench --graph $g --n 64 --repeats 1 --warmup 0 --device cpu --csv null_dev --svg null_dev --quiet
        [ -c null_dev ] || fail "the device file was replaced by bench"
    fi
    absent null_dev.tmp pipe.tmp
    # /dev/stdout and /dev/fd/N are the command's own descriptors, written through a duplicate:
    # appended to a file as the shell opened it (its links lead to that file, which a rename
    # would have replaced), or into a pipe (its link names "pipe:[N]", no file)
    echo keep >log.txt
    "$GA" bench --graph $g --n 64 --repeats 1 --warmup 0 --device cpu --csv /dev/stdout --quiet >>log.txt 2>err.txt ||
        fail "bench --csv /dev/stdout >> log.txt failed: $(cat err.txt)"
    has log.txt "keep"; [ "$(head -1 log.txt)" = keep ] || fail "log.txt lost its first line"
    has log.txt "graph,n,nk"
    "$GA" bench --graph $g --n 64 --repeats 1 --warmup 0 --device cpu --csv /dev/fd/1 --quiet 2>err.txt | cat >piped.txt
    has piped.txt "graph,n,nk"
    # with an output on stdout the table goes to stderr: stdout holds the CSV alone
    "$GA" bench --graph $g --n 64 --repeats 1 --warmup 0 --device cpu --csv /dev/stdout >all.txt 2>err.txt ||
        fail "bench --csv /dev/stdout > all.txt failed: $(cat err.txt)"
    lacks all.txt "median ms"
    has all.txt "graph,n,nk"
    has err.txt "median ms"
}

case_outputs_are_all_written_or_none() {
    gen_qkv f32 31 32,2,8 32,2,8
    g=window:2
    mkdir adir
    echo before >o.npy
    cp o.npy o.before
    # a bad second output: the first is not written either (an existing file is left as it was)
    expect 1 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out o.npy --lse adir --device cpu
    has err.txt "cannot write --lse 'adir'"
    has err.txt "Is a directory"
    cmp -s o.npy o.before || fail "o.npy was changed by a failed run"
    expect 1 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out new.npy --lse nodir/lse.npy --device cpu
    has err.txt "cannot write --lse 'nodir/lse.npy'"
    absent new.npy nodir
    # a directory that access() calls writable for root but that takes no new file (procfs):
    # refused before any work, by the same check, not after the computation
    if [ "$(id -u)" = 0 ] && [ -d /proc/self ] && ! touch /proc/ga-e2e-probe 2>/dev/null; then
        expect 1 "$GA" run --graph $g --q q.npy --k k.npy --v v.npy --out /proc/o.npy --device cpu
        has err.txt "cannot write --out '/proc/o.npy'"
    fi
    expect 1 "$GA" export --graph $g --n 32 --csr a.npy,adir
    absent a.npy
    expect 1 "$GA" export --graph $g --n 32 --csr adir,a.npy
    absent a.npy
    expect 1 "$GA" bench --graph $g --n 64 --repeats 1 --device cpu --csv t.csv --svg adir
    has err.txt "cannot write --svg 'adir'"
    absent t.csv
    expect 1 "$GA" bench --graph $g --n 64 --repeats 1 --device cpu --csv nodir/t.csv --svg t.svg
    absent t.svg nodir
    expect 1 "$GA" show --graph $g --n 32 --svg adir
    [ -d adir ] && [ -z "$(ls -A adir)" ] || fail "adir was replaced or written into"
}

case_same_file_outputs_and_inputs_are_rejected() {
    gen_qkv f32 32 32,2,8 32,2,8
    g=window:2
    mkdir sub
    run() { "$GA" run --graph "$g" --q q.npy --k k.npy --v v.npy --device cpu "$@"; }
    # two spellings of one new file
    expect 2 run --out o.npy --lse ./o.npy
    has err.txt "--out 'o.npy' and --lse './o.npy' name the same file"
    expect 2 run --out sub/o.npy --lse sub/../sub/o.npy
    absent o.npy sub/o.npy
    # an existing file, also through a symbolic link or a hard link
    echo x >e.npy
    ln -s e.npy e_link.npy
    ln e.npy e_hard.npy
    expect 2 run --out e.npy --lse e_link.npy
    expect 2 run --out e_hard.npy --lse e.npy
    has err.txt "name the same file"
    # an output may not be an input: --q, --k, --v, or a csr:/coo: file of --graph
    cp q.npy q.keep
    expect 2 run --out o.npy --lse q.npy
    has err.txt "--lse 'q.npy' is the input --q 'q.npy'"
    expect 2 run --out ./k.npy
    has err.txt "is the input --k"
    expect 2 run --out "$PWD/v.npy"
    has err.txt "is the input --v"
    cmp -s q.npy q.keep || fail "q.npy was changed"
    expect 0 "$GA" export --graph $g --n 32 --csr p.npy,i.npy
    cp i.npy i.keep
    g="window:1+csr:p.npy,i.npy"
    expect 2 run --out o.npy --lse ./i.npy
    has err.txt "--lse './i.npy' is the file 'i.npy' of --graph"
    cmp -s i.npy i.keep || fail "i.npy was changed"
    expect 2 "$GA" export --graph "coo:p.npy,i.npy" --n 32 --csr x.npy,sub/../i.npy
    has err.txt "of --graph"
    expect 2 "$GA" show --graph "csr:p.npy,i.npy" --n 32 --svg p.npy
    has err.txt "of --graph"
    # export and bench
    expect 2 "$GA" export --graph window:2 --n 32 --csr a.npy,./a.npy
    has err.txt "name the same file"
    absent a.npy
    expect 2 "$GA" bench --graph window:2 --n 64 --device cpu --csv t.csv --svg ./t.csv
    has err.txt "--csv 't.csv' and --svg './t.csv' name the same file"
    absent t.csv
    # distinct files next to each other are fine, and their temporary names never collide
    expect 0 "$GA" bench --graph window:2 --n 64 --repeats 1 --device cpu --csv t.csv --svg t.svg
    has t.csv "graph,n,nk"
    has t.svg "</svg>"
    absent
}

case_threads_above_1024_are_a_usage_error() {
    for c in check bench; do
        expect 2 "$GA" $c --graph window:2 --n 64 --threads 2^32 --device cpu
        has err.txt "--threads: at most 1024"
        expect 2 "$GA" $c --graph window:2 --n 64 --threads 1025 --device cpu
        has err.txt "at most 1024"
    done
    expect 2 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --threads 2147483648
    has err.txt "at most 1024"
    expect 0 "$GA" check --graph window:2 --n 64 --threads 3 --device cpu
    has out.txt "PASS"
}

case_cuda_failures_keep_the_library_detail() {
    "$GA" info | grep -q "CUDA devices: [1-9]" || skip "no CUDA device"
    # a head dimension the CUDA backend does not take: the status and the backend's own detail
    expect 1 "$GA" check --graph window:2 --n 64 --dim 513 --device cuda
    has err.txt "on cuda:0"
    has err.txt "GA_ERR_UNSUPPORTED_HEAD_DIM"
    has err.txt "head dimension 513"
    expect 0 "$H" gen q.npy f32 1 1 64,1,513
    expect 0 "$H" gen k.npy f32 1 2 64,1,513
    expect 0 "$H" gen v.npy f32 1 3 64,1,513
    expect 1 "$GA" run --graph window:2 --q q.npy --k k.npy --v v.npy --out o.npy --device cuda
    has err.txt "GA_ERR_UNSUPPORTED_HEAD_DIM"
    has err.txt "head dimension 513"
    absent o.npy
}

case_bench_and_run_check_everything_before_the_work() {
    # bench: a bad N or a bad output fails before anything is timed (no table on stdout)
    expect 2 "$GA" bench --graph window:4 --n 256,2^50 --device cpu
    has err.txt "1125899906842624 is above the maximum 2^40"
    lacks out.txt "TFLOP/s"
    expect 1 "$GA" bench --graph global:300 --n 512,256 --device cpu
    has err.txt "GA_ERR_INDEX_OUT_OF_RANGE"
    lacks out.txt "TFLOP/s"
    expect 1 "$GA" bench --graph window:4 --n 2^40 --heads 2^20 --dim 2^20 --device cpu
    has err.txt "the problem size overflows int64"
    expect 1 "$GA" bench --graph window:4 --n 256 --device cpu --csv nodir/b.csv
    has err.txt "cannot write --csv 'nodir/b.csv'"
    lacks out.txt "TFLOP/s"
    # run: the outputs are checked before the inputs are even read
    expect 1 "$GA" run --graph window:2 --q missing.npy --k k.npy --v v.npy --out nodir/o.npy --device cpu
    has err.txt "cannot write --out 'nodir/o.npy'"
    lacks err.txt "missing.npy"
}

case_check_prints_exact_tolerance_and_catches_overflow() {
    expect 0 "$GA" check --graph window:2 --n 64 --tol 0.0015 --device cpu
    has out.txt "(tolerance 0.0015; worst"
    has out.txt "(tolerance 0.0015)"
    expect 0 "$GA" check --graph window:2 --n 64 --device cpu
    has out.txt "(tolerance 0.0001; worst"
    # each product checked: B * H * Nq * D overflows although no single factor is large
    expect 1 "$GA" check --graph window:2 --n 2^32 --dim 2^32 --batch 2^4 --device cpu
    has err.txt "the problem size overflows int64"
    lacks err.txt "out of host memory"
}

case_bad_csr_files_fail_with_their_own_status_and_write_nothing() {
    gen_qkv f32 18 4,2,8 4,2,8
    expect 0 "$H" ints a.npy i64 0,1,2,3,4
    expect 0 "$H" ints b.npy i32 0,1,2,3
    expect 0 "$GA" run --graph csr:a.npy,b.npy --q q.npy --k k.npy --v v.npy --out ok.npy --device cpu
    rm -f ok.npy
    bad_graph csr GA_ERR_ROW_PTR_START       i64 1,1,2,3,4 i64 0,1,2,3
    bad_graph csr GA_ERR_ROW_PTR_NOT_MONOTONE i64 0,2,1,3,4 i64 0,1,2,3
    bad_graph csr GA_ERR_ROW_PTR_END         i64 0,1,2,3,5 i64 0,1,2,3
    bad_graph csr GA_ERR_INDEX_OUT_OF_RANGE  i64 0,1,2,3,4 i64 0,1,-2,3
    bad_graph csr GA_ERR_INDEX_OUT_OF_RANGE  i64 0,1,2,3,4 i64 0,1,2,9223372036854775807
    bad_graph csr GA_ERR_INDEX_DUPLICATE     i64 0,2,2,3,4 i32 1,1,2,3
    bad_graph csr GA_ERR_INDEX_UNSORTED      i64 0,2,2,3,4 i64 1,0,2,3
    bad_graph csr GA_ERR_FILE_FORMAT         i32 0,1,2,3,4 i64 0,1,2,3
    bad_graph csr GA_ERR_FILE_FORMAT         i64 - i64 -
    bad_graph csr GA_ERR_GRAPH_MISMATCH      i64 0,1,2,3 i64 0,1,2
    bad_graph csr GA_ERR_GRAPH_MISMATCH      i64 0,1,2,3,4 i64 0,1,2,9
    expect 0 "$H" bad float64 b.npy
    expect 1 "$GA" run --graph csr:a.npy,b.npy --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "GA_ERR_FILE_FORMAT"
    has err.txt "index array must be 1-D"
    absent o.npy
}

case_bad_coo_files_fail_with_their_own_status_and_write_nothing() {
    gen_qkv f32 19 4,2,8 4,2,8
    bad_graph coo GA_ERR_INDEX_DUPLICATE    i64 3,0,3 i64 1,2,1
    bad_graph coo GA_ERR_INDEX_OUT_OF_RANGE i64 0,-1,1 i64 0,1,1
    bad_graph coo GA_ERR_INDEX_OUT_OF_RANGE i32 0,1,1 i32 0,-5,1
    bad_graph coo GA_ERR_BAD_SIZE           i64 0,1,9223372036854775807 i64 0,1,2
    bad_graph coo GA_ERR_FILE_FORMAT        i64 0,1,2 i64 0,1
    bad_graph coo GA_ERR_FILE_FORMAT        i32 0,1,2 i64 0,1,2
    bad_graph coo GA_ERR_GRAPH_MISMATCH     i64 0,1,7 i64 0,1,2
}

case_bad_sizes_and_dtypes_fail_and_write_nothing() {
    # zero-length sequence
    expect 0 "$H" gen q.npy f32 1 1 0,2,8
    expect 0 "$H" gen k.npy f32 1 2 5,2,8
    expect 0 "$H" gen v.npy f32 1 3 5,2,8
    expect 1 "$GA" run --graph window:1 --q q.npy --k k.npy --v v.npy --out o.npy --lse lse.npy --device cpu
    has err.txt "--q 'q.npy' has shape (0, 2, 8): every dimension must be at least 1"
    absent o.npy lse.npy
    # a header whose size overflows int64, and one claiming 2^40 elements over 256 bytes
    gen_qkv f32 20 4,2,8 4,2,8
    expect 0 "$H" bad hugeshape bad.npy
    expect 1 "$GA" run --graph window:1 --q q.npy --k bad.npy --v v.npy --out o.npy --device cpu
    has err.txt "GA_ERR_FILE_FORMAT"
    has err.txt "overflows int64"
    absent o.npy
    expect 0 "$H" bad bigshape bad.npy
    expect 1 "$GA" run --graph window:1 --q q.npy --k k.npy --v bad.npy --out o.npy --device cpu
    has err.txt "GA_ERR_FILE_FORMAT"
    has err.txt "truncated data"
    absent o.npy
    # an unsupported dtype
    expect 0 "$H" bad float64 bad.npy
    expect 1 "$GA" run --graph window:1 --q bad.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "float64"
    absent o.npy
    # generated problems: sizes out of range, and a product that overflows int64
    expect 2 "$GA" check --graph window:1 --n 0
    has err.txt "below the minimum 1"
    expect 2 "$GA" check --graph window:1 --n 10 --dim 0
    expect 2 "$GA" check --graph window:1 --n 2^41 --device cpu
    has err.txt "above the maximum 2^40"
    expect 2 "$GA" export --graph window:1 --n 2^41 --csr p41.npy,i41.npy
    has err.txt "above the maximum 2^40"
    absent p41.npy
    expect 2 "$GA" show --graph window:1 --n 2^10 --nk 2^62
    has err.txt "above the maximum 2^40"
    expect 2 "$GA" check --graph causal --n 8 --seed -
    has err.txt "'-' is not an integer"
    # a leading '+' is a sign, as a leading '-' is
    expect 0 "$GA" show --graph window:1 --n +2^4 --nk +16
    has out.txt "nq: 16"
    expect 2 "$GA" check --graph causal --n 8 --scale 1e39
    has err.txt "at most 3.40282e+38"
    expect 0 "$GA" check --graph causal --n 8 --scale 1e-310 --device cpu
    expect 1 "$GA" check --graph window:1 --n 2^40 --heads 2^20 --dim 2^20 --device cpu
    has err.txt "overflows int64"
    # a real allocation failure (under AddressSanitizer, the huge request must return NULL, not abort)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
    export ASAN_OPTIONS
    expect 1 "$GA" check --graph window:1 --n 2^36 --dim 2^10 --device cpu
    has err.txt "out of host memory"
    # a global token beyond the sequence
    expect 1 "$GA" run --graph window:1+global:99 --q q.npy --k k.npy --v v.npy --out o.npy --device cpu
    has err.txt "GA_ERR_INDEX_OUT_OF_RANGE"
    absent o.npy
}

case_check_passes_for_every_graph_kind() {
    expect 0 "$GA" export --graph "window:2+random:3,4" --n 97 --csr p.npy,i.npy
    for g in dense causal window:7 window:5,0 dilated:3,4 blocks:16 longnet:16,2,1 global:0,50 random:5,3 \
             bigbird:8,1,1,1,9 "window:4+global:0+random:2,1" csr:p.npy,i.npy; do
        expect 0 "$GA" check --graph "$g" --n 97 --heads 4 --kv-heads 2 --dim 24 --device cpu --rows 20
        has out.txt "PASS"
    done
    for t in f16 bf16; do
        expect 0 "$GA" check --graph "window:9+global:1" --n 200 --heads 2 --dim 40 --dtype $t --device cpu
        has out.txt "PASS"
    done
    # Nq != Nk (bottom-right aligned), batches, the reference backend
    expect 0 "$GA" check --graph causal --n 50 --nk 80 --batch 2 --device cpu
    has out.txt "PASS"
    expect 0 "$GA" check --graph "window:3" --n 33 --backend reference
    has out.txt "PASS"
}

case_check_fails_above_tolerance() {
    expect 1 "$GA" check --graph window:8 --n 300 --tol 0 --device cpu
    has out.txt "FAIL"
}

case_check_handles_a_million_rows() {
    expect 0 "$GA" check --graph window:32 --n 2^20 --dim 8 --device cpu --rows 32
    has out.txt "PASS"
    has out.txt "last 1048575"
}

case_show_writes_valid_svg() {
    expect 0 "$GA" show --graph window:2+global:0 --n 32 --svg s.svg
    [ "$(value edges)" = 212 ] || fail "window:2+global:0 at N=32 has 212 edges, show says $(value edges)"
    has s.svg "<?xml"
    has s.svg "</svg>"
    has s.svg "212 edges"
    has s.svg "every query row enumerated"
    if command -v xmllint >/dev/null 2>&1; then xmllint --noout s.svg || fail "s.svg is not well-formed XML"; fi
    expect 1 "$GA" show --graph window:2 --n 32 --svg nodir/s.svg
    absent nodir
}

case_show_samples_rows_for_large_n() {
    expect 0 "$GA" show --graph window:16+global:0 --n 2^20 --svg big.svg --budget 2e6
    has big.svg "512 x 512 cells"
    has big.svg "sampled query rows"
    has big.svg "</svg>"
}

case_bench_writes_csv_and_svg() {
    expect 0 "$GA" bench --graph window:8 --n 256,1024 --repeats 3 --warmup 1 --device cpu --csv b.csv --svg b.svg
    has out.txt "TFLOP/s"
    [ "$(wc -l <b.csv)" -eq 3 ] || fail "b.csv should have a header and 2 rows"
    has b.csv "graph,n,nk"
    has b.csv '"window:8",1024,1024'
    has b.svg "</svg>"
    has b.svg "useful TFLOP/s"
    if command -v xmllint >/dev/null 2>&1; then xmllint --noout b.svg || fail "b.svg is not well-formed XML"; fi
}

if ! type "case_$CASE" >/dev/null 2>&1; then
    fail "no such case"
fi
"case_$CASE"
cd "$BASE" && rm -rf "$W"
echo "ok $CASE"

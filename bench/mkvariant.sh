#!/usr/bin/env bash
# mkvariant.sh -- a variant build of the tool and the shared library for a GPU A/B, without a
# second build tree: the CUDA sources given are compiled (as the build's own flags say) into
# build-carryxi/obj-NAME, swapped into copies of the build's objects, and the tool, test_cuda and
# libgraphattn.so relinked; gzip'd to build-carryxi/NAME.gz, NAME-test.gz and NAME-lib.gz for a device
# call's carry (bench/edge_cmp.sh's edge_tool unpacks the tool). Run on the working tree holding
# the variant's sources; the build tree itself is not touched.
#   bench/mkvariant.sh BUILD NAME src/cuda/FILE.cu [...]
# e.g. git apply bench/patches/heads-inner.patch && bench/mkvariant.sh build-carry10 hi src/cuda/tile_wgmma.cu
set -euo pipefail
cd "$(dirname "$0")/.."
B=$1 NAME=$2; shift 2
ROOT=$PWD OD=$PWD/build-carryxi/obj-$NAME
mkdir -p "$OD"
F=$B/CMakeFiles/graphattn_objects.dir/flags.make
flags=$(sed -n 's/^CUDA_FLAGS = //p' "$F") defs=$(sed -n 's/^CUDA_DEFINES = //p' "$F")
for src in "$@"; do
  eval nvcc $defs --options-file "$B/CMakeFiles/graphattn_objects.dir/includes_CUDA.rsp" $flags -c "$ROOT/$src" -o "$OD/$(basename "$src").o"
done
cd "$B"
cp libgraphattn.a "$OD/libgraphattn.a"
objs=$(cat CMakeFiles/graphattn.dir/objects1)
for src in "$@"; do
  o=$(basename "$src").o
  ar r "$OD/libgraphattn.a" "$OD/$o" > /dev/null
  objs=$(echo "$objs" | sed "s#CMakeFiles/graphattn_objects.dir/$src.o#$OD/$o#")
done
libs=$(sed "s#\.\./libgraphattn\.a#$OD/libgraphattn.a#" tools/CMakeFiles/graphattn_cmd.dir/linkLibs.rsp)
(cd tools && eval g++ $(cat CMakeFiles/graphattn_cmd.dir/objects1) -o "$OD/graphattn" $libs -L/usr/local/cuda/targets/x86_64-linux/lib/stubs -L/usr/local/cuda/targets/x86_64-linux/lib)
libs=$(sed "s#\.\./libgraphattn\.a#$OD/libgraphattn.a#" tests/CMakeFiles/test_cuda.dir/linkLibs.rsp)
(cd tests && eval g++ $(cat CMakeFiles/test_cuda.dir/objects1) -o "$OD/test_cuda" $libs -L/usr/local/cuda/targets/x86_64-linux/lib/stubs -L/usr/local/cuda/targets/x86_64-linux/lib)
eval g++ -fPIC -shared -Wl,-soname,libgraphattn.so.0 -o "$OD/libgraphattn.so" $objs $(cat CMakeFiles/graphattn.dir/linkLibs.rsp) -L/usr/local/cuda/targets/x86_64-linux/lib/stubs -L/usr/local/cuda/targets/x86_64-linux/lib
gzip -9c "$OD/graphattn" > "$ROOT/build-carryxi/$NAME.gz"
gzip -9c "$OD/libgraphattn.so" > "$ROOT/build-carryxi/$NAME-lib.gz"
gzip -9c "$OD/test_cuda" > "$ROOT/build-carryxi/$NAME-test.gz"
ls -la "$ROOT/build-carryxi/$NAME".gz "$ROOT/build-carryxi/$NAME"-*.gz

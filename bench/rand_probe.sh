#!/usr/bin/env bash
# rand_probe.sh -- one GPU call (run 57a): main's tool on random keys alone, window:64 alone and
# their union at 2^18-2^22 (the README's window + 16 random keys row was from run 4). Main's tool
# carried gzip'd as build-carryxi/main.gz. Run: timeout 300 bash bench/rand_probe.sh
set -u
mkdir -p build-carryxi/bin
gzip -dc build-carryxi/main.gz > build-carryxi/bin/main && chmod +x build-carryxi/bin/main
G=build-carryxi/bin/main
b() { local l=$1; shift; timeout 90 "$G" bench "$@" --device cuda 2>&1 | grep -E "^ +[0-9]|rror" | sed "s/^/$l /"; }
$G bench --help 2>&1 | head -30
for n in 2^18 2^20 2^22; do
  b "window:64 $n" --graph window:64 --n $n --dtype bf16 --repeats 10
  b "random:16 $n" --graph random:16,7 --n $n --dtype bf16 --repeats 10
  b "w64+r16 $n" --graph window:64+random:16,7 --n $n --dtype bf16 --repeats 10
done

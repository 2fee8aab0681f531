#!/usr/bin/env bash
# examples/pods/make-pods.sh builds working PODs: every POD imports its
# data, and the prover authenticates exactly the rows the bank signed.
set -euo pipefail
build=$1
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bash "$src/examples/pods/make-pods.sh" "$pixiu" "$tmp/pods" 3 10 10 >/dev/null
cd "$tmp/pods"
for i in 1 2 3; do
  signed=$(grep -c ',bank.example+' "pod$i/data/transactions.csv")
  "$pixiu" pod trust config --require any --pod "pod$i" >cfg.json
  "$pixiu" pod export transactions --pod "pod$i" -o "pod$i.pxr" 2>/dev/null
  counts=$("$pixiu" pod prove --config cfg.json "pod$i.pxr" -o /dev/null --json)
  echo "$counts" | grep -q "\"records\":100,\"authenticated\":$signed,\"alleged\":$((100 - signed))," ||
    { echo "FAIL: pod$i: $counts, want $signed authenticated"; exit 1; }
done
# different seeds, different data
cmp -s pod1/data/transactions.csv pod2/data/transactions.csv && { echo "FAIL: pods share data"; exit 1; }
echo "demo PODs ok"

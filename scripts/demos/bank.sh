#!/usr/bin/env bash
# scripts/demo bank: a local PIXIU network on loopback (one log, one witness, three
# executors, twenty PODs holding generated bank data, part of it signed by
# the bank's key), one task prover -> wasm -> dp written in C with the SDK,
# its DP result, the authenticated/alleged counts and the verified receipt.
# Everything is generated and computed here; nothing is canned.
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
work=$(mktemp -d "${TMPDIR:-/tmp}/pixiu-demo.XXXXXX")
cleanup() { "$net" stop "$work/net" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== building a network: 1 log, 1 witness, 3 executors, 20 PODs (50 account holders x 40 transactions each)"
"$net" setup "$build" "$work/net" 20 3 50 40
"$net" start "$build" "$work/net"
echo "== the task: examples/spend_per_user.c, built to wasm with the SDK"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$work/task.wasm" --sdk "$src/sdk"
"$net" manifest "$work/net" >"$work/manifest.json"
echo "== submitting: prover -> wasm task -> dp (epsilon 1), as consumer 'analyst'"
echo "   (the result is [transactions, total spent] summed over account holders, each clamped"
echo "    to [40, 5000] and noised with exact discrete Laplace noise)"
"$pixiu" task submit "$work/manifest.json" --node "$work/net/analyst/node.json" --code "$work/task.wasm" \
  --receipt "$work/receipt.json"
echo "== checking the receipt offline, against the membership (the network's keys)"
"$pixiu" verify "$work/receipt.json" --membership "$work/net/membership.json" | tail -3
task=$(sed -n 's/^{"type":"[^"]*","manifest":"\([0-9a-f]*\)".*/\1/p' "$work/receipt.json")
echo "== the explorer: $("$pixiu" ui --node "$work/net/log-1/node.json")task/$task"
echo "   (its chain, lineage and audit; paste $work/receipt.json on its Verify page to check it in the browser)"
if [ -t 0 ] && [ -t 1 ]; then read -r -p "   press Enter to stop the network " _ || true; fi
echo "== stopping the network"
echo "demo bank: ok"

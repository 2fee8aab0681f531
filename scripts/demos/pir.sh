#!/usr/bin/env bash
# scripts/demo pir: a financial DP table served by private information
# retrieval (docs/pir.md). A local PIXIU network on loopback (one log, one
# witness, three executors, eight bank PODs holding generated account data,
# a bank analyst and a querier): the analyst's task prover -> wasm -> dp
# makes a table of spending per (month, category), charged once to the
# PODs' budgets; the bank POD pod-1 stores that table; a querier runs a PIR
# task against it and fetches the row of its own group without pod-1 or the
# PIR λ learning which row. The row is printed next to the same row read
# directly from the table, with the bytes each way against downloading the
# whole table, and every receipt is verified. Nothing is canned.
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
work=$(mktemp -d "${TMPDIR:-/tmp}/pixiu-demo-pir.XXXXXX")
cleanup() { "$net" stop "$work/net" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
n="$work/net"

echo "== building a network: 1 log, 1 witness, 3 executors, 8 bank PODs (50 account holders x 40 transactions each)"
"$net" setup "$build" "$n" 8 3 50 40
# The querier: a node of the network of its own (a consumer), with its own key.
mkdir -p "$n/querier"
"$pixiu" keygen querier --out "$n/querier" >/dev/null
mv "$n/querier/querier.key" "$n/querier/node.key"
mv "$n/querier/querier.vkey" "$n/querier/node.vkey"
printf '{"id":"querier","dir":"%s/querier","membership":"%s/membership.json","key":"node.key","port_file":"port","roles":["consumer"]}\n' \
  "$n" "$n" >"$n/querier/node.json"
echo 'querier ["consumer"]' >>"$n/nodes"
# Listed before it starts (pixiu-net rewrites the membership with every
# node's real address once all have started).
sed -i "s|]}\$|,{\"id\":\"querier\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"$(cat "$n/querier/node.vkey")\",\"roles\":[\"consumer\"]}]}|" \
  "$n/membership.json"
"$net" start "$build" "$n"

echo "== the DP table task: examples/spend_by_month.c per account holder -> dp (laplace, epsilon 2)"
echo "   (spending per month and category in Q1 2025; each person's amount in each cell clamped"
echo "    to [0, 500] before the noise)"
"$pixiu" task build "$src/examples/spend_by_month.c" -o "$work/table.wasm" --sdk "$src/sdk"
schema=$(sed 's/,"key":"[^"]*"//' "$n/pods/pod1/data/schema.json")
pods=$(grep '^pod-' "$n/nodes" | cut -d' ' -f1 | sed 's/.*/"&"/' | paste -sd, -)
cat >"$work/table-task.json" <<MANIFEST
{"name": "spend-by-month",
 "datasets": [{"name": "transactions", "schema": $schema, "pods": [$pods]}],
 "stages": [
  {"kind": "prover", "min_level": 1, "params": $(cat "$n/prover.json")},
  {"kind": "wasm", "min_level": 1, "params": {"map": "per-user", "dim": 27, "cpu_ms": 10000, "mem_mb": 256}},
  {"kind": "dp", "min_level": 1, "dp": {"mechanism": "laplace", "epsilon": "2", "delta": "0"},
   "params": {"mechanism": "sum", "epsilon": "2", "dim": 27, "lower": 0, "upper": 500}}]}
MANIFEST
"$pixiu" task submit "$work/table-task.json" --node "$n/analyst/node.json" --code "$work/table.wasm" \
  --receipt "$work/table-receipt.json" --opening "$work/table-result.pxc" --json >"$work/table-submit.json"
echo "   done: $(sed 's/.*"result_digest":"\([0-9a-f]*\)".*/result \1/' "$work/table-submit.json" | cut -c1-23)..."

echo "== the bank (pod-1) stores the table, with the receipt of the task that made it"
for m in 01 02 03; do
  for c in groceries dining transport utilities rent shopping health entertainment travel; do echo "2025-$m/$c"; done
done >"$work/rows.txt"
"$pixiu" pir table --receipt "$work/table-receipt.json" --opening "$work/table-result.pxc" \
  --rows "$work/rows.txt" --columns spent -o "$work/table.jsonl" --schema-out "$work/table-schema.json"
"$pixiu" pod dataset create spend_table --schema "$work/table-schema.json" --pod "$n/pod-1"
"$pixiu" pod import spend_table "$work/table.jsonl" --format jsonl --pod "$n/pod-1" >/dev/null
cat >"$work/table-policy.json" <<'POLICY'
{"consumers": ["querier"], "code": [], "min_level": {"default": 1},
 "budget": {"epsilon": "0", "delta": "0"}}
POLICY
"$pixiu" pod policy set spend_table "$work/table-policy.json" --pod "$n/pod-1"

echo "== the querier fetches the hint: a PIR task at pod-1's table (no DP stage: the table is DP already)"
echo "   (the PIR λ runs on an executor: stages at PODs are not placed yet)"
"$pixiu" pir fetch-hint --node "$n/querier/node.json" --pod pod-1 --dataset spend_table \
  --table-receipt "$work/table-receipt.json" --cache "$work/cache" --serve-minutes 10

row="2025-02/dining"
echo "== the querier asks for its group's row ($row); neither pod-1 nor the PIR λ learns which"
"$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$work/table-receipt.json" --cache "$work/cache" \
  --row "$row" --json >"$work/row.json"
"$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$work/table-receipt.json" --cache "$work/cache" \
  --row "$row" | sed 's/^/   by PIR:      /' | head -1
"$pixiu" pir show "$work/table.jsonl" --row "$row" | sed 's/^/   the table:   /'
got=$("$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$work/table-receipt.json" \
  --cache "$work/cache" --row "$row" | head -1)
want=$("$pixiu" pir show "$work/table.jsonl" --row "$row")
[ "$got" = "$want" ] || { echo "demo pir: the row fetched by PIR differs from the table's" >&2; exit 1; }
# Every other row too, quietly.
while read -r r; do
  a=$("$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$work/table-receipt.json" \
    --cache "$work/cache" --row "$r" | head -1)
  b=$("$pixiu" pir show "$work/table.jsonl" --row "$r")
  [ "$a" = "$b" ] || { echo "demo pir: row $r differs: $a / $b" >&2; exit 1; }
done <"$work/rows.txt"
echo "   all 27 rows fetched by PIR equal the table's"

echo "== communication"
sed 's/.*"bytes":{"query":\([0-9]*\),"answer":\([0-9]*\),"hint":\([0-9]*\),"table":\([0-9]*\)}.*/   per query: \1 bytes up, \2 down (the whole table: \4 bytes of values); the hint: \3 bytes, once/' "$work/row.json"
echo "   (SimplePIR trades a hint of about 4 KiB per database row for a query and answer of"
echo "    about 4 bytes per column and row: for a 1 GiB table, 128 MiB once and 256 KiB per query)"

echo "== the receipts, checked offline against the membership"
"$pixiu" verify "$work/table-receipt.json" --membership "$n/membership.json" | tail -3 | sed 's/^/   table task: /'
"$pixiu" verify "$work/cache/"*/receipt.json --membership "$n/membership.json" | tail -3 | sed 's/^/   PIR task:   /'
echo "== stopping the network"
echo "demo pir: ok"

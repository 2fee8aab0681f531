#!/usr/bin/env bash
# A DP table served by PIR across real nodes on loopback (docs/pir.md): a
# DP task makes the table, pod-1 stores it, a querier fetches the hint
# through a PIR task and queries rows, each equal to the table's. Then the
# attacks: a consumer the table's policy does not list is refused by the
# POD; a cached hint with a byte changed, another task's receipt put in the
# cache as the table's, a PIR receipt with a byte changed and a table whose
# values are not its receipt's result are each refused before any answer is
# trusted.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
n="$tmp/net"
cleanup() { "$net" stop "$n" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$n"/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
# expect STATUS NEEDLE CMD...: the command exits STATUS and says NEEDLE.
expect() {
  local want=$1 needle=$2 rc=0
  shift 2
  "$@" >"$tmp/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat "$tmp/out")"
  grep -q -- "$needle" "$tmp/out" || fail "$* does not say \"$needle\": $(cat "$tmp/out")"
}

"$net" setup "$build" "$n" 3 2 10 10 >/dev/null
mkdir -p "$n/querier"
"$pixiu" keygen querier --out "$n/querier" >/dev/null
mv "$n/querier/querier.key" "$n/querier/node.key"
mv "$n/querier/querier.vkey" "$n/querier/node.vkey"
printf '{"id":"querier","dir":"%s/querier","membership":"%s/membership.json","key":"node.key","port_file":"port","roles":["consumer"]}\n' \
  "$n" "$n" >"$n/querier/node.json"
echo 'querier ["consumer"]' >>"$n/nodes"
sed -i "s|]}\$|,{\"id\":\"querier\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"$(cat "$n/querier/node.vkey")\",\"roles\":[\"consumer\"]}]}|" \
  "$n/membership.json"
"$net" start "$build" "$n"

# The DP table: spending per (month, category).
"$pixiu" task build "$src/examples/spend_by_month.c" -o "$tmp/table.wasm" --sdk "$src/sdk"
schema=$(sed 's/,"key":"[^"]*"//' "$n/pods/pod1/data/schema.json")
cat >"$tmp/table-task.json" <<MANIFEST
{"name": "spend-by-month",
 "datasets": [{"name": "transactions", "schema": $schema, "pods": ["pod-1", "pod-2", "pod-3"]}],
 "stages": [
  {"kind": "prover", "min_level": 1, "params": $(cat "$n/prover.json")},
  {"kind": "wasm", "min_level": 1, "params": {"map": "per-user", "dim": 27, "cpu_ms": 10000, "mem_mb": 256}},
  {"kind": "dp", "min_level": 1, "dp": {"mechanism": "laplace", "epsilon": "1", "delta": "0"},
   "params": {"mechanism": "sum", "epsilon": "1", "dim": 27, "lower": 0, "upper": 500}}]}
MANIFEST
"$pixiu" task submit "$tmp/table-task.json" --node "$n/analyst/node.json" --code "$tmp/table.wasm" \
  --receipt "$tmp/receipt-a.json" --opening "$tmp/result-a.pxc" --json >"$tmp/submit-a" 2>&1 ||
  fail "table task: $(cat "$tmp/submit-a")"
for m in 01 02 03; do
  for c in groceries dining transport utilities rent shopping health entertainment travel; do echo "2025-$m/$c"; done
done >"$tmp/rows.txt"

# A table whose values are not its receipt's result is refused.
cp "$tmp/result-a.pxc" "$tmp/result-bad.pxc"
printf '\x01' | dd of="$tmp/result-bad.pxc" bs=1 seek=60 conv=notrunc 2>/dev/null
expect 1 "not the result its receipt names" "$pixiu" pir table --receipt "$tmp/receipt-a.json" \
  --opening "$tmp/result-bad.pxc" --rows "$tmp/rows.txt" --columns spent -o "$tmp/bad.jsonl"
expect 1 "27 rows of 2 columns, but 27 values" "$pixiu" pir table --receipt "$tmp/receipt-a.json" \
  --opening "$tmp/result-a.pxc" --rows "$tmp/rows.txt" --columns spent,more -o "$tmp/bad.jsonl"
"$pixiu" pir table --receipt "$tmp/receipt-a.json" --opening "$tmp/result-a.pxc" --rows "$tmp/rows.txt" \
  --columns spent -o "$tmp/table.jsonl" --schema-out "$tmp/table-schema.json" 2>/dev/null
"$pixiu" pod dataset create spend_table --schema "$tmp/table-schema.json" --pod "$n/pod-1"
"$pixiu" pod import spend_table "$tmp/table.jsonl" --format jsonl --pod "$n/pod-1" >/dev/null
printf '{"consumers": ["querier"], "code": [], "budget": {"epsilon": "0", "delta": "0"}}\n' >"$tmp/policy.json"
"$pixiu" pod policy set spend_table "$tmp/policy.json" --pod "$n/pod-1"

# A consumer the table's policy does not list gets no release.
expect 1 "is not allowed to use dataset" "$pixiu" pir fetch-hint --node "$n/analyst/node.json" --pod pod-1 --dataset spend_table \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/analyst-cache"

# The querier: hint, then rows equal to the table's.
"$pixiu" pir fetch-hint --node "$n/querier/node.json" --pod pod-1 --dataset spend_table \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache" --serve-minutes 10 >"$tmp/fetch" 2>&1 ||
  fail "fetch-hint: $(cat "$tmp/fetch")"
grep -q 'receipts verified' "$tmp/fetch" || fail "fetch-hint: $(cat "$tmp/fetch")"
for r in 2025-01/groceries 2025-02/dining 2025-03/travel; do
  got=$("$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache" \
    --row "$r" | head -1) || fail "query $r"
  want=$("$pixiu" pir show "$tmp/table.jsonl" --row "$r")
  [ "$got" = "$want" ] || fail "row $r by PIR: $got, in the table: $want"
done
"$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache" \
  --row 2025-02/rent --json | grep -q '"bytes":{"query":' || fail "query --json"
expect 2 'no row "2025-04/rent"' "$pixiu" pir query --node "$n/querier/node.json" \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache" --row 2025-04/rent

# Tampered caches: nothing is trusted that does not tie to the receipts.
dir=$(ls -d "$tmp"/cache/*/)
tamper() { rm -rf "$tmp/cache2"; mkdir -p "$tmp/cache2"; cp -r "$dir" "$tmp/cache2/"; }
c2() { ls -d "$tmp"/cache2/*/; }
tamper
printf '\x01' | dd of="$(c2)hint.pxc" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect 1 "commitment differs" "$pixiu" pir query --node "$n/querier/node.json" \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache2" --row 2025-02/dining
tamper   # another valid receipt as the table's: the PIR task's own (not behind DP)
cp "$(c2)receipt.json" "$(c2)table-receipt.json"
expect 1 "not behind DP" "$pixiu" pir query --node "$n/querier/node.json" \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache2" --row 2025-02/dining
tamper
sed -i -E 's/"result":"0/"result":"Z/; s/"result":"[1-9a-f]/"result":"0/; s/"result":"Z/"result":"1/' "$(c2)receipt.json"
expect 1 "the PIR receipt" "$pixiu" pir query --node "$n/querier/node.json" \
  --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache2" --row 2025-02/dining
# The intact cache still answers.
"$pixiu" pir query --node "$n/querier/node.json" --table-receipt "$tmp/receipt-a.json" --cache "$tmp/cache" \
  --row 2025-02/dining >/dev/null || fail "the intact cache stopped answering"
echo "pir loopback: ok"

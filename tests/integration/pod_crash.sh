#!/usr/bin/env bash
# A POD killed in the middle of an import keeps a consistent database: the
# import is all or nothing even under SIGKILL, the file passes SQLite's
# integrity check, and a later import succeeds.
set -euo pipefail
build=$1
pixiu="$build/pixiu"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
rows=60000
"$pixiu" pod init --pod p >/dev/null
"$pixiu" pod gen-demo --out d --users $((rows / 50)) --txns 50 --seed 5 --signed-permille 0 >/dev/null
"$pixiu" pod dataset create bank --schema d/schema.json --pod p
count() { sqlite3 p/pod.db "SELECT count(*) FROM records"; }
killed=0
for delay in 0.2 0.5 0.9 1.4; do
  "$pixiu" pod import bank d/transactions.csv --pod p >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  [ "$(sqlite3 p/pod.db 'PRAGMA integrity_check')" = ok ] || { echo "FAIL: integrity after kill at $delay s"; exit 1; }
  c=$(count)
  if [ "$c" -ne 0 ] && [ "$c" -ne "$rows" ]; then echo "FAIL: $c records after kill at $delay s"; exit 1; fi
  if [ "$c" -eq "$rows" ]; then break; fi
done
[ "$killed" -gt 0 ] || echo "note: every import finished before it could be killed"
if [ "$(count)" -eq 0 ]; then "$pixiu" pod import bank d/transactions.csv --pod p >/dev/null; fi
[ "$(count)" -eq "$rows" ] || { echo "FAIL: final count $(count)"; exit 1; }
echo "crash-consistent import ok ($killed imports killed)"

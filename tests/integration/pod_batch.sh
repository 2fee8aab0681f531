#!/usr/bin/env bash
# Batch signatures from the command line: `pixiu source sign --batch N` and
# `pixiu pod gen-demo --batch N` write rows a POD imports and the prover
# authenticates one by one; the rows' px_sig have the batch layout of
# docs/formats.md (checked here by reading the bytes); a row changed after
# signing is refused by line; bad --batch values are usage errors.
set -euo pipefail
build=$1
pixiu="$build/pixiu"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fails=0
check() { # check WANT_STATUS description command...
  local want=$1 what=$2; shift 2
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; cat "$tmp/err"; fails=$((fails + 1))
  else echo "ok: $what"; fi
}
expect() { # expect DESCRIPTION GREP-PATTERN FILE
  grep -q -- "$2" "$3" || { echo "FAIL: $1: no '$2' in $3:"; cat "$3"; fails=$((fails + 1)); }
}
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
# layout FILE BATCH: every signed row's px_sig is sig(64) || index || size ||
# path, runs of BATCH rows share one signature, indices count 0..size-1, the
# last run may be shorter, and the path has the RFC 9162 length.
layout() {
  python3 - "$1" "$2" <<'PY'
import base64, csv, json, struct, sys
path, batch = sys.argv[1], int(sys.argv[2])
if path.endswith(".jsonl"):
    rows = [json.loads(l) for l in open(path) if l.strip()]
else:
    rows = list(csv.DictReader(open(path, newline="")))
sigs = [base64.b64decode(r["px_sig"]) for r in rows if r["px_sig"]]
def proof_len(i, n):
    inner = (i ^ (n - 1)).bit_length()
    return inner + bin(i >> inner).count("1")
assert sigs, "no signed rows"
for k, s in enumerate(sigs):
    i, n = struct.unpack(">II", s[64:72])
    first = k - k % batch
    want_n = min(batch, len(sigs) - first)
    assert (i, n) == (k % batch, want_n), (k, i, n, want_n)
    assert len(s) == 72 + 32 * proof_len(i, n), (k, len(s))
    assert s[:64] == sigs[first][:64], k
print(len(sigs), "signed rows in batches of", batch)
PY
}

check 0 "source keygen p256" "$pixiu" source keygen bank.example --alg p256
check 0 "source keygen ed25519" "$pixiu" source keygen phone-7
check 0 "gen-demo --batch 7" "$pixiu" pod gen-demo --out demo --users 10 --txns 20 --seed 3 \
  --bank-key bank.example.key --signed-permille 700 --batch 7
check 0 "gen-demo rows are batches of 7" layout demo/transactions.csv 7
check 0 "gen-demo per record" "$pixiu" pod gen-demo --out plain --users 10 --txns 20 --seed 3 \
  --bank-key bank.example.key --signed-permille 700
# the same rows; only px_sig differs
cut -d, -f1-9 demo/transactions.csv >a.txt; cut -d, -f1-9 plain/transactions.csv >b.txt
cmp -s a.txt b.txt || { echo "FAIL: gen-demo --batch changed the rows"; fails=$((fails + 1)); }
check 1 "per-record rows are not batches" layout plain/transactions.csv 7
check 2 "gen-demo --batch 0" "$pixiu" pod gen-demo --out x --bank-key bank.example.key --batch 0
check 2 "gen-demo --batch 65537" "$pixiu" pod gen-demo --out x --bank-key bank.example.key --batch 65537

P=(--pod pod)
check 0 "pod init" "$pixiu" pod init "${P[@]}"
check 0 "dataset create" "$pixiu" pod dataset create bank --schema demo/schema.json "${P[@]}"
check 0 "trust bank" "$pixiu" pod trust add bank.example.vkey "${P[@]}"
check 0 "trust phone" "$pixiu" pod trust add phone-7.vkey "${P[@]}"
signed=$(grep -c 'bank.example+' demo/transactions.csv)
check 0 "import batch-signed demo" "$pixiu" pod import bank demo/transactions.csv "${P[@]}"
expect "import count" "imported 200 records" "$tmp/out"

# a source signs its own rows in batches of 3 (7 rows: 3 + 3 + 1), CSV and JSON Lines
{ echo 'txn_id,user_id,account,timestamp,amount,currency,category,merchant'
  for i in 1 2 3 4 5 6 7; do echo "P$i,u1,A,$i,-2.$i,EUR,dining,\"Cafe, \"\"Aurora\"\"\""; done; } >phone.csv
check 0 "source sign --batch 3" "$pixiu" source sign --key phone-7.key --schema demo/schema.json --batch 3 \
  phone.csv -o phone.signed.csv
check 0 "rows are batches of 3" layout phone.signed.csv 3
for i in 1 2 3 4 5; do
  echo "{\"txn_id\":\"J$i\",\"user_id\":\"u2\",\"account\":\"B\",\"timestamp\":$i,\"amount\":0.$i,\"currency\":\"EUR\",\"category\":\"x\",\"merchant\":\"y\"}"
done >phone.jsonl
check 0 "source sign jsonl --batch 1000" "$pixiu" source sign --key phone-7.key --schema demo/schema.json \
  --batch 1000 phone.jsonl -o phone.signed.jsonl
check 0 "one short batch of 5" layout phone.signed.jsonl 1000
check 0 "source sign --batch 1" "$pixiu" source sign --key phone-7.key --schema demo/schema.json --batch 1 \
  phone.csv -o phone.ones.csv
check 0 "batches of one" layout phone.ones.csv 1
check 0 "source sign per record" "$pixiu" source sign --key phone-7.key --schema demo/schema.json phone.csv
[ "$(sed -n 2p "$tmp/out" | awk -F, '{print length($NF)}')" = 88 ] ||
  { echo "FAIL: default px_sig is not 64 bytes"; fails=$((fails + 1)); }
check 2 "source sign --batch 0" "$pixiu" source sign --key phone-7.key --schema demo/schema.json --batch 0 phone.csv
check 2 "source sign --batch x" "$pixiu" source sign --key phone-7.key --schema demo/schema.json --batch x phone.csv

# one row of a batch changed after signing: that line is refused, as any bad signature
sed '3s/^"P2"/"Q2"/' phone.signed.csv >phone.bad.csv
cmp -s phone.bad.csv phone.signed.csv && { echo "FAIL: tampering changed nothing"; fails=$((fails + 1)); }
check 1 "tampered batch row" "$pixiu" pod import bank phone.bad.csv "${P[@]}"
expect "invalid signature named" 'line 3: invalid signature by source "phone-7+' "$tmp/err"
expect "only that line" "nothing stored" "$tmp/err"
if grep -q '^line [24]:' "$tmp/err"; then echo "FAIL: other rows of the batch named"; cat "$tmp/err"; fails=$((fails + 1)); fi
check 0 "import source batches" "$pixiu" pod import bank phone.signed.csv "${P[@]}"
check 0 "import jsonl batch" "$pixiu" pod import bank phone.signed.jsonl "${P[@]}"

# the prover authenticates every signed record, one by one
check 0 "export" "$pixiu" pod export bank -o bank.pxr "${P[@]}"
check 0 "trust config" "$pixiu" pod trust config "${P[@]}"
cp "$tmp/out" prover.json
check 0 "prove" "$pixiu" pod prove --config prover.json bank.pxr -o proved.pxr --json
[ "$(json_field "$tmp/out" '["authenticated"]')" = $((signed + 12)) ] ||
  { echo "FAIL: authenticated, want $((signed + 12))"; cat "$tmp/out"; fails=$((fails + 1)); }
[ "$(json_field "$tmp/out" '["bad_signature"]')" = 0 ] || { echo "FAIL: bad signatures"; fails=$((fails + 1)); }
[ "$(json_field "$tmp/out" '["records"]')" = 212 ] || { echo "FAIL: records"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all batch signature command-line checks passed"

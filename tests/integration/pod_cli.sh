#!/usr/bin/env bash
# A POD owner's day from the command line: init, a bank source key, demo
# data, trust, import (good and bad), the prover, policy, concurrent
# admissions from many processes, a signed release checked with
# `pixiu dsse verify`, refunds, and `pixiu source sign` in both formats.
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

P=(--pod pod1)
check 0 "pod init" "$pixiu" pod init "${P[@]}" --name pod1.example
[ "$(stat -c %a pod1/pod.key)" = 600 ] || { echo "FAIL: POD key mode"; fails=$((fails + 1)); }
check 0 "pod init again keeps the key" "$pixiu" pod init "${P[@]}"
check 2 "pod without init" "$pixiu" pod dataset list --pod nowhere

check 0 "source keygen p256" "$pixiu" source keygen bank.example --alg p256
check 0 "source keygen ed25519" "$pixiu" source keygen phone-7
check 2 "source keygen refuses to overwrite" "$pixiu" source keygen phone-7
check 0 "gen-demo" "$pixiu" pod gen-demo --out demo --users 30 --txns 20 --seed 7 --bank-key bank.example.key \
  --signed-permille 600
[ "$(wc -l <demo/transactions.csv)" -eq 601 ] || { echo "FAIL: demo rows"; fails=$((fails + 1)); }

check 0 "dataset create" "$pixiu" pod dataset create bank --schema demo/schema.json "${P[@]}"
check 1 "dataset create twice" "$pixiu" pod dataset create bank --schema demo/schema.json "${P[@]}"
check 1 "import before trusting the bank" "$pixiu" pod import bank demo/transactions.csv "${P[@]}"
expect "unknown source named" 'unknown source "bank.example+' "$tmp/err"
check 0 "trust add (file)" "$pixiu" pod trust add bank.example.vkey "${P[@]}"
check 0 "trust add (string)" "$pixiu" pod trust add "$(cat phone-7.vkey)" "${P[@]}"
check 1 "trust add forged" "$pixiu" pod trust add "$(sed 's/^phone-7/phone-8/' phone-7.vkey)" "${P[@]}"
check 0 "import" "$pixiu" pod import bank demo/transactions.csv "${P[@]}"
expect "import count" "imported 600 records" "$tmp/out"
check 1 "import again: duplicate keys" "$pixiu" pod import bank demo/transactions.csv "${P[@]}"
expect "duplicate named" "duplicate value of unique key column txn_id" "$tmp/err"
expect "lines listed" "^line 3: " "$tmp/err"

# a tampered amount in a signed row: refused, nothing stored
head -n 1 demo/transactions.csv >bad.csv
grep -m 1 'bank.example+' demo/transactions.csv | sed 's/^T/X/; s/,\(-\?[0-9]*\)\.\([0-9]*\),EUR,/,\1.9\2,EUR,/' >>bad.csv
check 1 "tampered signed row" "$pixiu" pod import bank bad.csv "${P[@]}"
expect "invalid signature named" "line 2: invalid signature" "$tmp/err"
check 0 "dataset list --json" "$pixiu" pod dataset list --json "${P[@]}"
[ "$(json_field "$tmp/out" '[0]["records"]')" = 600 ] || { echo "FAIL: records after refused imports"; fails=$((fails + 1)); }
signed=$(json_field "$tmp/out" '[0]["signed"]')

# the prover over the exported stream
check 0 "export" "$pixiu" pod export bank -o bank.pxr "${P[@]}"
check 0 "trust config" "$pixiu" pod trust config --require any "${P[@]}"; cp "$tmp/out" prover.json
check 0 "prove" "$pixiu" pod prove --config prover.json bank.pxr -o proven.pxr --json
[ "$(json_field "$tmp/out" '["authenticated"]')" = "$signed" ] || { echo "FAIL: authenticated count"; fails=$((fails + 1)); }
[ "$(json_field "$tmp/out" '["alleged"]')" = $((600 - signed)) ] || { echo "FAIL: alleged count"; fails=$((fails + 1)); }
check 0 "trust config authenticated" "$pixiu" pod trust config "${P[@]}"; cp "$tmp/out" strict.json
check 0 "prove, authenticated only" "$pixiu" pod prove --config strict.json bank.pxr -o strict.pxr --json
[ "$(json_field "$tmp/out" '["dropped"]')" = $((600 - signed)) ] || { echo "FAIL: dropped count"; fails=$((fails + 1)); }
head -c 100 bank.pxr >trunc.pxr
check 1 "prove a truncated stream" "$pixiu" pod prove --config prover.json trunc.pxr -o x.pxr

# policy, admissions from many processes at once, release, refund
cat >policy.json <<'EOF'
{"consumers": ["analyst", "lab"], "code": "any-behind-dp", "min_level": {"default": 1},
 "budget": {"epsilon": "2", "delta": "1e-6", "per_consumer": {"epsilon": "1.5", "delta": "1e-6"}}}
EOF
check 1 "admit without a policy" "$pixiu" pod admit "$(printf '%064d' 1)" bank --consumer lab --epsilon 0.1 --delta 0 "${P[@]}"
check 0 "policy set" "$pixiu" pod policy set bank policy.json "${P[@]}"
check 1 "policy set (invalid)" "$pixiu" pod policy set bank prover.json "${P[@]}"
code=$(printf 'task' | sha256sum | cut -c1-64)
stages=(--stage prover:1 --stage "wasm:1:$code" --stage dp:1)
for i in $(seq 1 40); do
  m=$(printf '%064x' "$i")
  c=$([ $((i % 2)) -eq 0 ] && echo lab || echo analyst)
  "$pixiu" pod admit "$m" bank --consumer "$c" --epsilon 0.1 --delta 0 "${stages[@]}" "${P[@]}" \
    >"adm.$i.out" 2>"adm.$i.err" &
done
wait
admitted=$(cat adm.*.out | grep -c '^admitted' || true)
[ "$admitted" -eq 20 ] || { echo "FAIL: $admitted concurrent admissions of 0.1 against 2, want 20"; fails=$((fails + 1)); }
grep -h -v 'budget exhausted' adm.*.err && { echo "FAIL: unexpected admission errors"; fails=$((fails + 1)); }
check 0 "budget show --json" "$pixiu" pod budget show bank --json "${P[@]}"
[ "$(json_field "$tmp/out" '["epsilon_spent"]')" = 2 ] || { echo "FAIL: spent"; fails=$((fails + 1)); }
check 1 "admit with code not behind DP" "$pixiu" pod admit "$(printf '%064d' 99)" bank --consumer lab --epsilon 0 \
  --delta 0 --stage "wasm:1:$code" "${P[@]}"

m1=$(printf '%064x' 1); m2=$(printf '%064x' 2)
first=$(grep -l '^admitted' adm.*.out | head -n 1 | sed 's/adm\.\([0-9]*\)\.out/\1/')
mf=$(printf '%064x' "$first")
key=$(printf '%064d' 5)
check 0 "release" "$pixiu" pod release "$mf" bank --pod-id pod1 --stage-key "$key" -o released.pxr "${P[@]}"
cp "$tmp/out" release.json
check 0 "release statement verifies" "$pixiu" dsse verify --vkey pod1/pod.vkey release.json
check 1 "release twice" "$pixiu" pod release "$mf" bank --pod-id pod1 --stage-key "$key" "${P[@]}"
check 1 "refund after release" "$pixiu" pod budget refund "$mf" bank "${P[@]}"
# The release payload is "PXC1" || r (32 bytes) || the export; the statement
# names it by its commitment, never by a digest of the records.
[ "$(head -c 4 released.pxr)" = PXC1 ] || { echo "FAIL: release payload lacks its PXC1 header"; fails=$((fails + 1)); }
tail -c +37 released.pxr | cmp -s - bank.pxr || { echo "FAIL: released stream differs from export"; fails=$((fails + 1)); }
plain=$(sha256sum bank.pxr | cut -c1-64)
python3 -c 'import base64,json,sys; sys.stdout.write(base64.b64decode(json.load(open("release.json"))["payload"]).decode())' \
  >release.payload
grep -q dataset_digest release.payload || { echo "FAIL: release payload unreadable"; fails=$((fails + 1)); }
grep -q "$plain" release.payload && { echo "FAIL: the release statement names the records' plain digest"; fails=$((fails + 1)); }
second=$(grep -l '^admitted' adm.*.out | sed -n 2p | sed 's/adm\.\([0-9]*\)\.out/\1/')
check 0 "refund a task that never started" "$pixiu" pod budget refund "$(printf '%064x' "$second")" bank "${P[@]}"
check 0 "releases --json" "$pixiu" pod releases --json "${P[@]}"
[ "$(json_field "$tmp/out" '[0]["records"]')" = 600 ] || { echo "FAIL: release records"; fails=$((fails + 1)); }
id=$(json_field "$tmp/out" '[0]["id"]')
check 0 "releases show" "$pixiu" pod releases show "$id" "${P[@]}"
cmp -s "$tmp/out" release.json || { echo "FAIL: stored envelope differs"; fails=$((fails + 1)); }
check 0 "budget history --json" "$pixiu" pod budget history bank --json "${P[@]}"
[ "$(python3 -c "import json; h=json.load(open('$tmp/out')); print(sorted(set(c['state'] for c in h)))")" = \
  "['charged', 'refunded', 'started']" ] || { echo "FAIL: history states"; fails=$((fails + 1)); }

# a source signs its own rows (CSV in, JSON Lines in), the POD proves them
printf 'txn_id,user_id,account,timestamp,amount,currency,category,merchant\nP1,u1,A,1,-2.5,EUR,dining,"Cafe, ""Aurora"""\n' >phone.csv
check 0 "source sign csv" "$pixiu" source sign --key phone-7.key --schema demo/schema.json phone.csv -o phone.signed.csv
check 0 "import source-signed csv" "$pixiu" pod import bank phone.signed.csv "${P[@]}"
printf '{"txn_id":"P2","user_id":"u1","account":"A","timestamp":2,"amount":0.1,"currency":"EUR","category":"x","merchant":"y"}\n' >phone.jsonl
check 0 "source sign jsonl" "$pixiu" source sign --key phone-7.key --schema demo/schema.json phone.jsonl -o phone.signed.jsonl
check 0 "import source-signed jsonl" "$pixiu" pod import bank phone.signed.jsonl "${P[@]}"
printf 'txn_id,nope\n' >bad-header.csv
check 1 "source sign bad input" "$pixiu" source sign --key phone-7.key --schema demo/schema.json bad-header.csv
check 2 "source sign missing file" "$pixiu" source sign --key phone-7.key --schema demo/schema.json missing.csv

[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all POD command-line checks passed"

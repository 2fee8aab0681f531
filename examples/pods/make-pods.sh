#!/usr/bin/env bash
# Build N bank PODs for the demo: one bank source key (ECDSA P-256, as an
# organisation would hold it), then per POD a directory with its own key,
# a dataset "transactions" generated from its own seed (part of the rows
# signed by the bank, the rest unsigned), the bank in its trust store and a
# policy allowing the demo consumer any code behind a DP stage.
#
#   make-pods.sh PIXIU OUTDIR [N=20] [USERS=50] [TXNS=40] [CONSUMER=consumer]
#   (env PX_JOBS=K builds K PODs at a time; env PX_BATCH=B has the bank sign
#   its rows in batches of B, one signature per batch, docs/pod.md)
set -euo pipefail
pixiu=${1:?usage: make-pods.sh PIXIU OUTDIR [N] [USERS] [TXNS] [CONSUMER]}
out=${2:?usage: make-pods.sh PIXIU OUTDIR [N] [USERS] [TXNS] [CONSUMER]}
n=${3:-20}
users=${4:-50}
txns=${5:-40}
consumer=${6:-consumer}
mkdir -p "$out"
cd "$out"
[ -f bank.example.key ] || "$pixiu" source keygen bank.example --alg p256 >/dev/null
cat >policy.json <<POLICY
{"consumers": ["$consumer"], "code": "any-behind-dp", "require_dp": true,
 "min_level": {"default": 1},
 "budget": {"epsilon": "10", "delta": "1e-6", "per_consumer": {"epsilon": "5", "delta": "1e-6"}}}
POLICY
make_pod() {
  local i=$1 pod="pod$1"
  if [ -f "$pod/pod.db" ]; then echo "$pod exists, kept" >&2; return 0; fi
  "$pixiu" pod init --pod "$pod" --name "$pod.pixiu.example" >/dev/null
  "$pixiu" pod gen-demo --out "$pod/data" --users "$users" --txns "$txns" --seed "$i" \
    --bank-key bank.example.key --signed-permille $((500 + (i * 37) % 400)) \
    ${PX_BATCH:+--batch "$PX_BATCH"} >/dev/null
  "$pixiu" pod dataset create transactions --schema "$pod/data/schema.json" --pod "$pod"
  "$pixiu" pod trust add bank.example.vkey --pod "$pod"
  "$pixiu" pod import transactions "$pod/data/transactions.csv" --pod "$pod" >/dev/null
  "$pixiu" pod policy set transactions policy.json --pod "$pod"
}
# PX_JOBS PODs are built at a time (each POD is independent of the others).
jobs=${PX_JOBS:-1}
running=0
for i in $(seq 1 "$n"); do
  if [ "$jobs" -le 1 ]; then make_pod "$i"; continue; fi
  make_pod "$i" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); done
echo "$n PODs in $out (bank key: $out/bank.example.vkey)"

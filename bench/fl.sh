#!/usr/bin/env bash
# Federated learning on loopback (docs/fl.md): 100 per-person PODs (env
# PX_FL_PODS overrides), one pixiud each, a log, a witness and an executor;
# a training of 4 rounds (PX_FL_ROUNDS) at epsilon 8, delta 1e-5, as in the demo.
#
#   fl_round_<N>pods   wall time per round (pixiu task train, receipts
#                      included, divided by the rounds); baseline: the
#                      round's training work done natively in one process
#                      (the same SGD, 5 epochs over every person's
#                      messages: pixiu-fl-central train --epochs 5)
#   fl_accuracy        the private model's accuracy on the held-out set;
#                      baseline: the same model trained centrally without
#                      privacy for as many epochs as rounds
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
src=${PX_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
pixiu="$build/pixiu"
central="$build/pixiu-fl-central"
net="$src/scripts/pixiu-net"
n=${PX_FL_PODS:-100}
rounds=${PX_FL_ROUNDS:-4}
tmp=$(mktemp -d)
trap '"$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
now() { date +%s.%N; }
acc() { sed -n 's/.*accuracy=\([0-9.]*\).*/\1/p'; }

"$pixiu" task build "$src/examples/fl/train.c" -o "$tmp/train.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$tmp/train.wasm" | cut -d' ' -f1)
cat >"$tmp/policy.json" <<POLICY
{"consumers": ["lab"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0.0001"},
 "at_pod": {"consumers": ["lab"], "code": ["$digest"], "limits": {"cpu_ms": 20000, "mem_mb": 64},
            "per_day_consumer": 50}}
POLICY
"$net" setup-fl "$build" "$tmp/net" "$tmp/policy.json" "$n" 1 >/dev/null
"$net" start "$build" "$tmp/net"
"$net" manifest-fl "$tmp/net" "$rounds" 8 0.00001 4 >"$tmp/training.json"
"$central" init -o "$tmp/zero.pxfm"

s0=$(now)
"$central" train --epochs 5 -o "$tmp/work.pxfm" "$tmp"/net/messages/pod-*.jsonl >/dev/null
base_ms=$(python3 -c "import sys; print('%.1f' % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$s0" "$(now)")

s0=$(now)
"$pixiu" task train "$tmp/training.json" --node "$tmp/net/lab/node.json" --code "$tmp/train.wasm" \
  --model "$tmp/zero.pxfm" --out "$tmp/model.pxfm" >"$tmp/out" 2>"$tmp/progress" ||
  { tail -20 "$tmp/progress"; cat "$tmp/out"; exit 1; }
s1=$(now)
python3 - "$s0" "$s1" "$rounds" "$base_ms" "$n" <<'PY'
import sys
s0, s1, r, b, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
v = (s1 - s0) * 1000 / r
print("BENCH name=fl_round_%spods value=%.1f unit=ms baseline=%.1f ratio=%.3f" % (n, v, b, v / b))
PY
"$central" train --epochs "$rounds" -o "$tmp/central.pxfm" "$tmp"/net/messages/pod-*.jsonl >/dev/null
a=$("$central" eval "$tmp/model.pxfm" "$tmp/net/messages/test.jsonl" | acc)
b=$("$central" eval "$tmp/central.pxfm" "$tmp/net/messages/test.jsonl" | acc)
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('BENCH name=fl_accuracy value=%.4f unit=accuracy baseline=%.4f ratio=%.3f' % (a, b, a / b))" "$a" "$b"

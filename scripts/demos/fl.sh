#!/usr/bin/env bash
# scripts/demo fl: federated learning over PODs. A local PIXIU network on
# loopback: one log, one witness, one executor and 100 per-person PODs, each
# holding one person's text messages (labelled by topic). A researcher
# (consumer "lab") trains a next-topic model in rounds: at each POD a user
# λ trains on that person's messages only, clips and masks its update; the
# aggregator λ unmasks only the sum of the survivors' updates, adds discrete
# Gaussian noise and moves the model; in round 2 a fifth of the PODs are
# down. Each round prints the private model's held-out loss and accuracy
# next to the same model trained centrally without privacy, and every
# round's receipt is checked offline. Everything is generated here.
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
pixiu="$build/pixiu"
central="$build/pixiu-fl-central"
net="$src/scripts/pixiu-net"
pods=${PIXIU_FL_PODS:-100}
rounds=${PIXIU_FL_ROUNDS:-4}
eps=${PIXIU_FL_EPSILON:-8}
delta=0.00001
down_round=2
work=$(mktemp -d "${TMPDIR:-/tmp}/pixiu-fl.XXXXXX")
killer=
cleanup() {
  [ -n "$killer" ] && kill "$killer" 2>/dev/null || true
  "$net" stop "$work/net" >/dev/null 2>&1 || true
  if [ -n "${PIXIU_FL_KEEP:-}" ]; then echo "(kept $work)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== the researcher's training code: examples/fl/train.c (softmax regression over hashed words),"
echo "   built to wasm with the SDK; it reads the round's model and one person's messages"
"$pixiu" task build "$src/examples/fl/train.c" -o "$work/train.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$work/train.wasm" | cut -d' ' -f1)
cat >"$work/policy.json" <<POLICY
{"consumers": ["lab"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0.0001"},
 "at_pod": {"consumers": ["lab"], "code": ["$digest"], "limits": {"cpu_ms": 20000, "mem_mb": 64},
            "per_day_consumer": 50}}
POLICY
echo "== building a network: 1 log, 1 witness, 1 executor, $pods per-person PODs"
t0=$SECONDS
"$net" setup-fl "$build" "$work/net" "$work/policy.json" "$pods" 1 >/dev/null
"$net" start "$build" "$work/net"
echo "   ($((SECONDS - t0)) s to generate the messages and start the $((pods + 4)) nodes)"
test="$work/net/messages/test.jsonl"

echo "== the baseline: the same model trained centrally on everyone's messages, no privacy"
"$central" init -o "$work/model-0.pxfm"
"$central" train --epochs "$rounds" -o "$work/central.pxfm" "$work"/net/messages/pod-*.jsonl >/dev/null
base=$("$central" eval "$work/central.pxfm" "$test")
echo "   central: $base"

echo "== training: $rounds rounds, epsilon $eps, delta $delta for the whole training (zCDP across rounds)"
"$net" manifest-fl "$work/net" "$rounds" "$eps" "$delta" 4 >"$work/training.json"
# Round $down_round: a fifth of the PODs drop out after they joined the
# round (their nodes are killed once the round's roster is set, while the
# users train), so the survivors' masks with them must be removed; they
# come back (on new ports) for the next round.
(
  while n=$(grep -c 'admitted the plan' "$work/progress" 2>/dev/null || true); [ "${n:-0}" -lt "$down_round" ]; do
    [ -d "$work" ] && [ ! -s "$work/done" ] || exit 0
    sleep 0.05
  done
  for i in $(seq 5 5 "$pods"); do kill -KILL "$(cat "$work/net/pod-$i/pid")" 2>/dev/null || true; done
  # Back at once, on new ports, without the round's instances (they died
  # with their nodes): the consumer reads the membership again between
  # rounds and finds them for the next round.
  "$net" restart-many "$build" "$work/net" $(seq -f 'pod-%g' 5 5 "$pods") >/dev/null 2>&1 || true
) &
killer=$!
mkdir -p "$work/models"
t0=$SECONDS
"$pixiu" task train "$work/training.json" --node "$work/net/lab/node.json" --code "$work/train.wasm" \
  --model "$work/model-0.pxfm" --models "$work/models" --out "$work/model.pxfm" --receipt "$work/training.receipt" \
  >"$work/out" 2>"$work/progress" || { cat "$work/progress" "$work/out"; echo done >"$work/done"; exit 1; }
echo done >"$work/done"
wait "$killer" || true
echo "   (the training took $((SECONDS - t0)) s)"
for r in $(seq 1 "$rounds"); do
  [ -s "$work/models/round-$r.pxfm" ] || break
  line=$(grep "^round $r/" "$work/out")
  echo "   $line"
  echo "      private: $("$central" eval "$work/models/round-$r.pxfm" "$test")"
done
echo "      central: $base"
tail -1 "$work/out" | sed 's/^/   /'

echo "== the training receipt, checked offline against the membership: every round's receipt"
echo "   and the chain of models (each round starts from the model the one before produced)"
"$pixiu" verify "$work/training.receipt" --membership "$work/net/membership.json" | sed 's/^/   /'
acc=$("$central" eval "$work/model.pxfm" "$test" | sed -n 's/.*accuracy=\([0-9.]*\).*/\1/p')
bacc=$(echo "$base" | sed -n 's/.*accuracy=\([0-9.]*\).*/\1/p')
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('   private/central accuracy: %.3f / %.3f = %.2f' % (a,b,a/b)); sys.exit(0 if a/b >= 0.8 else 1)" "$acc" "$bacc"
echo "demo fl: ok"

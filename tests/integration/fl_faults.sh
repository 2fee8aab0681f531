#!/usr/bin/env bash
# Federated learning's faults on a real loopback network (docs/fl.md): ten
# per-person PODs, one executor, consumer "lab". Each fault is checked
# where it shows: the round's line, `pixiu task train`'s exit status, the
# POD's refusal in the progress and the audit of the round from the log.
#   (a) dropouts   3 of 10 PODs killed once they admitted round 2: the
#                  training completes, round 2 says 7 of 10 survived, the
#                  audit of round 2 names the three
#   (b) too few    min_survivors 9, 2 of 10 PODs killed in the round: the
#                  aggregator refuses, train exits 1, the round's line and
#                  the audit's verdict name "too few survivors"; 5 of 10
#                  killed (the rest pruned, min_survivors 6): the round
#                  fails naming too few survivors before any reveal
#   (c) unclipped  training code built without clipping, params.clip 4:
#                  no POD sends its update (status clamped), the round
#                  fails, the audit names "clamped" at the PODs
#   (d) replayed   round 2 of (a)'s training submitted again: every POD
#                  refuses it as a replayed round
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
killer=
cleanup() {
  if [ -n "$killer" ]; then kill "$killer" 2>/dev/null || true; fi
  "$net" stop "$tmp/net" >/dev/null 2>&1 || true
  if [ -n "${PX_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.progress "$tmp"/*.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -30 "$f" >&2; }; done
  exit 1
}
has() { grep -q -- "$2" "$1" || fail "$1 does not say \"$2\": $(cat "$1")"; }
n="$tmp/net"
pods=10

# The training code as the example ships it, and a copy that never clips.
"$pixiu" task build "$src/examples/fl/train.c" -o "$tmp/train.wasm" --sdk "$src/sdk"
mkdir "$tmp/src"
cp "$src"/examples/fl/*.h "$tmp/src/"
sed 's/^#define FL_CLIP 4.0$/#define FL_CLIP 1e30/' "$src/examples/fl/train.c" >"$tmp/src/unclipped.c"
grep -q 'define FL_CLIP 1e30' "$tmp/src/unclipped.c" || fail "could not unclip a copy of train.c"
"$pixiu" task build "$tmp/src/unclipped.c" -o "$tmp/unclipped.wasm" --sdk "$src/sdk"
good=$(sha256sum "$tmp/train.wasm" | cut -d' ' -f1)
bad=$(sha256sum "$tmp/unclipped.wasm" | cut -d' ' -f1)
[ "$good" != "$bad" ] || fail "the unclipped build is the same module"
cat >"$tmp/policy.json" <<POLICY
{"consumers": ["lab"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0.0001"},
 "at_pod": {"consumers": ["lab"], "code": ["$good", "$bad"], "limits": {"cpu_ms": 20000, "mem_mb": 64},
            "per_day_consumer": 50}}
POLICY
"$net" setup-fl "$build" "$n" "$tmp/policy.json" "$pods" 1 >/dev/null
"$net" start "$build" "$n"
"$build/pixiu-fl-central" init -o "$tmp/model-0.pxfm"

# template NAME ROUNDS CLIP [MIN_SURVIVORS]: a training of epsilon 1 (the
# PODs' budget of 10 holds every training here).
template() {
  "$net" manifest-fl "$n" "$2" 1 0.00001 "$3" >"$tmp/$1.json"
  # A pad of 1.5 s at the PODs: the PODs killed once they admitted a round
  # are surely still in their step, however loaded the machine.
  python3 - "$tmp/$1.json" "${4:-}" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["stages"][0]["pad_ms"] = 1500
if sys.argv[2]:
    t["stages"][1]["params"]["min_survivors"] = int(sys.argv[2])
json.dump(t, open(sys.argv[1], "w"))
PY
}

# kill_after NAME ADMISSIONS PODS...: once the training NAME's progress
# shows its ADMISSIONS-th "admitted the plan", kill -KILL the PODs' nodes.
kill_after() {
  local name=$1 want=$2
  shift 2
  (
    while c=$(grep -c 'admitted the plan' "$tmp/$name.progress" 2>/dev/null || true); [ "${c:-0}" -lt "$want" ]; do
      [ -e "$tmp/$name.done" ] && exit 0
      sleep 0.05
    done
    for p in "$@"; do kill -KILL "$(cat "$n/$p/pid")"; done
  ) &
  killer=$!
}

# train NAME CODE: runs the training; its exit status in $tmp/NAME.rc.
train() {
  local rc=0
  "$pixiu" task train "$tmp/$1.json" --node "$n/lab/node.json" --code "$tmp/$2" --model "$tmp/model-0.pxfm" \
    --models "$tmp/$1-models" --receipt "$tmp/$1.receipt" >"$tmp/$1.out" 2>"$tmp/$1.progress" || rc=$?
  echo "$rc" >"$tmp/$1.rc"
  : >"$tmp/$1.done"
}

# manifest NAME ROUND: that round's manifest id from the training receipt.
manifest() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["rounds"][int(sys.argv[2]) - 1]["manifest"])' \
    "$tmp/$1.receipt" "$2"
}

restart() {
  for p in "$@"; do "$net" restart "$build" "$n" "$p" >/dev/null; done
}

# --- (a) dropouts: 3 of 10 PODs killed once round 2 is admitted ---
template dropouts 2 4
mkdir -p "$tmp/dropouts-models"
kill_after dropouts 2 pod-3 pod-6 pod-9
train dropouts train.wasm
wait "$killer" || true
killer=
[ "$(cat "$tmp/dropouts.rc")" = 0 ] || fail "the training with dropouts exited $(cat "$tmp/dropouts.rc")"
has "$tmp/dropouts.out" "^round 1/2: 10 of 10 users survived"
has "$tmp/dropouts.out" "^round 2/2: 7 of 10 users survived"
has "$tmp/dropouts.out" "^training: 2 rounds"
for p in pod-3 pod-6 pod-9; do has "$tmp/dropouts.progress" "  $p: "; done
[ -s "$tmp/dropouts-models/round-2.pxfm" ] || fail "no model after round 2"
m2=$(manifest dropouts 2)
rc=0
"$pixiu" audit "$m2" --membership "$n/membership.json" >"$tmp/audit-a" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "the audit of round 2 exited $rc: $(cat "$tmp/audit-a")"
# Killed before or after its instance accepted its input, as it happened.
for p in pod-3 pod-6 pod-9; do
  has "$tmp/audit-a" "^stage 0 (fl-user) at $p: \(never accepted input\|accepted its input (entry [0-9]*) and has logged no proof\)"
done
[ "$(grep -c '^stage 0 (fl-user) at pod-' "$tmp/audit-a")" = 3 ] || fail "the audit names others: $(cat "$tmp/audit-a")"
has "$tmp/audit-a" "7 of 10 PODs ran stage 0 (fl-user) .* the stage after them used 7 of their outputs"
has "$tmp/audit-a" "^verdict: ok: "
restart pod-3 pod-6 pod-9
echo "(a) dropouts: ok"

# --- (d) replayed round: round 2 of (a)'s training again ---
first=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["first"])' "$tmp/dropouts.receipt")
python3 - "$tmp/dropouts.json" "$first" >"$tmp/replay.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["training"].update(round=2, first=sys.argv[2])
print(json.dumps(t))
PY
rc=0
"$pixiu" task submit "$tmp/replay.json" --node "$n/lab/node.json" --code "$tmp/train.wasm" \
  --model "$tmp/dropouts-models/round-1.pxfm" >"$tmp/replay.out" 2>"$tmp/replay.progress" || rc=$?
[ "$rc" = 1 ] || fail "the replayed round exited $rc, not 1"
has "$tmp/replay.out" "^failed: 0 PODs admitted the round"
short=${first:0:16}
for p in $(seq 1 $pods); do
  has "$tmp/replay.progress" "pod-$p: .*round 2 of training $short...: already admitted (a replayed round)"
done
echo "(d) replayed round: ok"

# --- (b) too few survivors: min_survivors 9, 2 of 10 PODs killed ---
template toofew 1 4 9
mkdir -p "$tmp/toofew-models"
kill_after toofew 1 pod-2 pod-7
train toofew train.wasm
wait "$killer" || true
killer=
[ "$(cat "$tmp/toofew.rc")" = 1 ] || fail "a round with too few survivors: train exited $(cat "$tmp/toofew.rc"), not 1"
has "$tmp/toofew.out" "^round 1/1: failed: .*too few survivors: 8 of 10, need 9"
has "$tmp/toofew.out" "^training failed: round 1: .*too few survivors"
m=$(manifest toofew 1)
rc=0
"$pixiu" audit "$m" --membership "$n/membership.json" >"$tmp/audit-b" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the audit of the failed round exited $rc: $(cat "$tmp/audit-b")"
has "$tmp/audit-b" "too few survivors: 8 of 10, need 9"
restart pod-2 pod-7
# Most PODs down (5 of 10, the default min_survivors 6): whatever stops the
# round, the line the user sees names too few survivors.
template most 1 4
mkdir -p "$tmp/most-models"
kill_after most 1 pod-1 pod-3 pod-5 pod-7 pod-9
train most train.wasm
wait "$killer" || true
killer=
[ "$(cat "$tmp/most.rc")" = 1 ] || fail "a round with 5 of 10 PODs down: train exited $(cat "$tmp/most.rc"), not 1"
has "$tmp/most.progress" "round 1: 0 of 10 users survived to unmasking"
has "$tmp/most.out" "^round 1/1: failed: too few survivors: 0 of 10 users are left to unmask, need 6$"
restart pod-1 pod-3 pod-5 pod-7 pod-9
echo "(b) too few survivors: ok"

# --- (c) unclipped updates: every POD's fl-user refuses to send ---
template unclipped 1 4
mkdir -p "$tmp/unclipped-models"
train unclipped unclipped.wasm
[ "$(cat "$tmp/unclipped.rc")" = 1 ] || fail "unclipped updates: train exited $(cat "$tmp/unclipped.rc"), not 1"
has "$tmp/unclipped.out" "^round 1/1: failed: no POD ran the stages at the POD: pod-1: .*ended clamped (10 of 10 PODs alike)"
m=$(manifest unclipped 1)
rc=0
"$pixiu" audit "$m" --membership "$n/membership.json" >"$tmp/audit-c" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the audit of the unclipped round exited $rc: $(cat "$tmp/audit-c")"
has "$tmp/audit-c" "clamped"
for p in $(seq 1 $pods); do has "$tmp/unclipped.progress" "pod-$p: .*clamped"; done
echo "(c) unclipped updates: ok"

echo "fl_faults: ok"

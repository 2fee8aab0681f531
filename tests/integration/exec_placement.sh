#!/usr/bin/env bash
# Placement on a real loopback network: the dispatcher puts each stage only
# on executors whose TEE level (as the membership states it) meets the
# stage's min_level and names the stage when none does; a manifest naming a
# POD the membership does not know is refused at submit; a POD whose policy
# needs a level or lists its executors refuses a plan, naming the instance.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
# A compile cache of its own: nothing shared with other runs on the host.
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

"$net" setup "$build" "$tmp/net" 3 3 5 5 >/dev/null
"$net" start "$build" "$tmp/net"
"$net" manifest "$tmp/net" >"$tmp/manifest.json"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
submit() { # manifest out progress
  "$pixiu" task submit "$1" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" >"$2" 2>"$3"
}
# Edit a JSON file in place with a Python expression over `d`.
edit() { python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(d, open(sys.argv[1] + ".tmp", "w"))
PY
  mv "$1.tmp" "$1"
}

# 1. min_level above every executor: refused before anything is recruited,
# naming the stage and the best level the network has.
cp "$tmp/manifest.json" "$tmp/high.json"
edit "$tmp/high.json" 'd["stages"][1]["min_level"] = 2'
set +e
submit "$tmp/high.json" "$tmp/high.out" "$tmp/high.progress"
rc=$?
set -e
[ $rc -eq 2 ] || fail "a stage no executor can host: exit $rc: $(cat "$tmp/high.out" "$tmp/high.progress")"
grep -q 'stage 1 (wasm) needs TEE level 2: no executor in the membership has it (the highest is level 1, on exec-1)' \
  "$tmp/high.progress" || fail "no named reason: $(cat "$tmp/high.progress")"
grep -q 'recruited' "$tmp/high.progress" && fail "recruited although no executor qualifies"

# 2. A manifest POD the membership does not know is an error, not dropped.
cp "$tmp/manifest.json" "$tmp/ghost.json"
edit "$tmp/ghost.json" 'd["datasets"][0]["pods"].append("pod-9")'
set +e
submit "$tmp/ghost.json" "$tmp/ghost.out" "$tmp/ghost.progress"
rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown POD: exit $rc"
grep -q 'dataset "transactions": POD "pod-9" is not in the membership' "$tmp/ghost.progress" ||
  fail "unknown POD not named: $(cat "$tmp/ghost.progress")"

# 3. POD policies: pod-2 accepts only exec-1 and exec-2, pod-3 needs level 2
# for wasm. Round robin puts the DP stage on exec-3: pod-2 refuses naming
# it, pod-3 refuses naming the wasm instance; pod-1 alone releases.
for p in 2 3; do "$pixiu" pod policy show transactions --pod "$tmp/net/pod-$p" >"$tmp/policy-$p.json"; done
edit "$tmp/policy-2.json" 'd["executors"] = ["exec-1", "exec-2"]'
edit "$tmp/policy-3.json" 'd["min_level"] = {"default": 1, "wasm": 2}'
for p in 2 3; do "$pixiu" pod policy set transactions "$tmp/policy-$p.json" --pod "$tmp/net/pod-$p"; done
submit "$tmp/manifest.json" "$tmp/pol.out" "$tmp/pol.progress" || fail "policy task: $(cat "$tmp/pol.out" "$tmp/pol.progress")"
grep -q 'pod-2 refused: .*stage 2 (dp) partition 0 runs on exec-3, not an executor the policy of dataset "transactions" accepts' \
  "$tmp/pol.progress" || fail "pod-2 did not name the instance: $(cat "$tmp/pol.progress")"
grep -q 'pod-3 refused: .*stage 1 (wasm) partition 0 on exec-2 runs at TEE level 1, the policy of dataset "transactions" needs 2' \
  "$tmp/pol.progress" || fail "pod-3 did not name the instance: $(cat "$tmp/pol.progress")"
grep -q '1 releases admitted, 2 PODs refused' "$tmp/pol.progress" || fail "admissions: $(cat "$tmp/pol.progress")"

# 4. The membership says exec-3 runs at level 0: no stage goes there, the
# stages go round robin over exec-1 and exec-2, and pod-2 (which does not
# accept exec-3) now admits.
edit "$tmp/net/membership.json" '[n.update(level=0) for n in d["nodes"] if n["id"] == "exec-3"]'
sleep 1.1 # nodes re-read the membership when its mtime changes
submit "$tmp/manifest.json" "$tmp/low.out" "$tmp/low.progress" || fail "placed task: $(cat "$tmp/low.out" "$tmp/low.progress")"
grep -q 'on exec-3' "$tmp/low.progress" && fail "a stage was placed on exec-3: $(cat "$tmp/low.progress")"
grep -q 'recruited stage 2 (dp) partition 0 on exec-1' "$tmp/low.progress" || fail "dp placement: $(cat "$tmp/low.progress")"
grep -q 'recruited stage 1 (wasm) partition 0 on exec-2' "$tmp/low.progress" || fail "wasm placement"
grep -q '2 releases admitted, 1 PODs refused' "$tmp/low.progress" || fail "admissions: $(cat "$tmp/low.progress")"
grep -q '^receipt: verified' "$tmp/low.out" || fail "no receipt: $(cat "$tmp/low.out")"

"$net" stop "$tmp/net"
if grep -l 'Sanitizer' "$tmp"/net/*/pixiud.log; then fail "a node reported a sanitizer error"; fi
echo "exec placement ok"
